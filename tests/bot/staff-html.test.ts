import type { MessageEntity } from 'grammy/types';
import { cleanStaffHtml } from '../../src/bot/formatting/clean-html';
import { entitiesToHtml, staffHtml } from '../../src/bot/formatting/entities-html';

/**
 * Staff formatting as the visitor gets it (docs/protocol.md "Formatting from staff"): Telegram's
 * entities turned into HTML, then cleaned against the one allowlist. The page's side, in a real
 * browser, is tests/staff/formatting.test.ts.
 */
const e = (type: string, offset: number, length: number, extra: Record<string, unknown> = {}) =>
  ({ type, offset, length, ...extra }) as MessageEntity;

const LINK = 'rel="noopener noreferrer" target="_blank"';

describe('staff formatting: Telegram entities to clean HTML', () => {
  it.each([
    ['bold', 'b'],
    ['italic', 'i'],
    ['underline', 'u'],
    ['strikethrough', 's'],
    ['spoiler', 'tg-spoiler'],
    ['code', 'code'],
    ['pre', 'pre'],
    ['blockquote', 'blockquote'],
    ['expandable_blockquote', 'blockquote'],
  ])('%s becomes <%s>', (type, tag) => {
    expect(staffHtml('say hello now', [e(type, 4, 5)])).toBe(`say <${tag}>hello</${tag}> now`);
  });

  it('links: text links, URLs (with or without a scheme) and e-mail addresses; each opens apart', () => {
    expect(staffHtml('see the docs', [e('text_link', 8, 4, { url: 'https://example.com/a?b=1&c=2' })])).toBe(
      `see the <a href="https://example.com/a?b=1&amp;c=2" ${LINK}>docs</a>`,
    );
    expect(staffHtml('go to example.com/x now', [e('url', 6, 13)])).toBe(
      `go to <a href="http://example.com/x" ${LINK}>example.com/x</a> now`,
    );
    expect(staffHtml('https://t.co', [e('url', 0, 12)])).toBe(`<a href="https://t.co/" ${LINK}>https://t.co</a>`);
    expect(staffHtml('mail a@b.co', [e('email', 5, 6)])).toBe(`mail <a href="mailto:a@b.co" ${LINK}>a@b.co</a>`);
  });

  it('entities shown as their text: mentions, hashtags, commands, phone numbers, custom emoji, text mentions', () => {
    const text = '@deniz #order /help +90 555 😀 Can';
    const entities = [
      e('mention', 0, 6),
      e('hashtag', 7, 6),
      e('bot_command', 14, 5),
      e('phone_number', 20, 7),
      e('custom_emoji', 28, 2, { custom_emoji_id: '1' }),
      e('text_mention', 31, 3, { user: { id: 1, is_bot: false, first_name: 'Can' } }),
    ];
    expect(staffHtml(text, entities)).toBeNull();
    expect(staffHtml('plain', [])).toBeNull();
    expect(staffHtml('plain', undefined)).toBeNull();
    expect(staffHtml(null, [e('bold', 0, 1)])).toBeNull();
  });

  it('nested entities nest; a bold inside a link inside italics', () => {
    const text = 'one two three four';
    expect(staffHtml(text, [e('italic', 0, 18), e('text_link', 4, 9, { url: 'https://x.test' }), e('bold', 8, 5)])).toBe(
      `<i>one <a href="https://x.test/" ${LINK}>two <b>three</b></a> four</i>`,
    );
    // Same start: the longer one is outside. Same range: both, in the order given.
    expect(staffHtml('abcdef', [e('bold', 0, 3), e('italic', 0, 6)])).toBe('<i><b>abc</b>def</i>');
    expect(staffHtml('abc', [e('bold', 0, 3), e('underline', 0, 3)])).toBe('<b><u>abc</u></b>');
    // Quoted code block with formatting around it.
    expect(staffHtml('quote:\nline 1\nline 2', [e('blockquote', 0, 20), e('pre', 7, 13)])).toBe(
      '<blockquote>quote:\n<pre>line 1\nline 2</pre></blockquote>',
    );
  });

  it('overlapping entities (which Telegram never sends, but a forged update might) stay well formed', () => {
    expect(staffHtml('abcdef', [e('bold', 0, 4), e('italic', 2, 4)])).toBe('<b>ab<i>cd</i></b><i>ef</i>');
    expect(staffHtml('abcdefgh', [e('bold', 0, 4), e('italic', 2, 4), e('underline', 3, 5)])).toBe(
      '<b>ab<i>c<u>d</u></i></b><i><u>ef</u></i><u>gh</u>',
    );
    // A link overlapping a link: the second stays text.
    expect(staffHtml('abcdef', [e('text_link', 0, 4, { url: 'https://a.test' }), e('text_link', 2, 4, { url: 'https://b.test' })])).toBe(
      `<a href="https://a.test/" ${LINK}>abcd</a>ef`,
    );
  });

  it('counts offsets in UTF-16 code units, as Telegram does: emoji, flags and joined emoji before and inside', () => {
    // 😀 is two code units; 👩‍💻 five; 🇹🇷 four.
    const text = '😀 hi 👩‍💻 yes 🇹🇷 ok';
    const bold = text.indexOf('hi');
    const italic = text.indexOf('👩‍💻');
    const under = text.indexOf('🇹🇷');
    expect([bold, italic, under]).toEqual([3, 6, 16]);
    expect(staffHtml(text, [e('bold', bold, 2), e('italic', italic, 5 + 4), e('underline', under, 4)])).toBe(
      '😀 <b>hi</b> <i>👩‍💻 yes</i> <u>🇹🇷</u> ok',
    );
    // An offset in the middle of a surrogate pair moves before it: never half an emoji.
    expect(staffHtml('a😀b', [e('bold', 2, 2)])).toBe('a<b>😀b</b>');
    // Entities past the end are cut to the text; empty or negative ones are ignored.
    expect(staffHtml('abc', [e('bold', 1, 50), e('italic', 5, 2), e('underline', -3, 1)])).toBe('a<b>bc</b>');
  });

  it('hostile input: a javascript: text link is text; markup inside code is text; nothing but the allowlist comes out', () => {
    expect(staffHtml('click me', [e('text_link', 0, 8, { url: 'javascript:alert(1)' })])).toBeNull();
    expect(staffHtml('click me', [e('bold', 0, 5), e('text_link', 0, 8, { url: 'JaVaScRiPt:alert(1)' })])).toBe('<b>click</b> me');
    for (const url of [
      'data:text/html,<script>alert(1)</script>',
      'vbscript:x',
      '//evil.test/x',
      '/relative',
      'tg://user?id=1',
      'file:///etc/passwd',
    ]) {
      expect(staffHtml('x', [e('text_link', 0, 1, { url })])).toBeNull();
    }
    expect(staffHtml('<script>alert(1)</script> and <img src=x onerror=alert(1)>', [e('code', 0, 25)])).toBe(
      '<code>&lt;script&gt;alert(1)&lt;/script&gt;</code> and &lt;img src=x onerror=alert(1)&gt;',
    );
    expect(staffHtml('"><b>x', [e('url', 0, 6)])).toBeNull();
    expect(staffHtml('a "quote" & <tag>', [e('italic', 0, 17)])).toBe('<i>a "quote" &amp; &lt;tag&gt;</i>');
  });

  it('the cleaner keeps only the allowlist, whatever HTML it is given', () => {
    expect(cleanStaffHtml('<b onclick="x()" class="y">b</b><script>alert(1)</script><style>*{}</style><img src=x onerror=y>')).toBe(
      '<b>b</b>',
    );
    expect(cleanStaffHtml('<a href="javascript:alert(1)" target="_self">x</a><a href="https://ok.test" rel="opener">y</a>')).toBe(
      `x<a href="https://ok.test/" ${LINK}>y</a>`,
    );
    expect(cleanStaffHtml('<a href=" jav&#x09;ascript:alert(1)">x</a><a>y</a><a href="mailto:s@t.co">z</a>')).toBe(
      `xy<a href="mailto:s@t.co" ${LINK}>z</a>`,
    );
    expect(cleanStaffHtml('<div><p>para</p><iframe src="https://x"></iframe><tg-spoiler style="x">s</tg-spoiler></div>')).toBe(
      'para<tg-spoiler>s</tg-spoiler>',
    );
    expect(entitiesToHtml('a<b', [e('bold', 0, 3)])).toBe('<b>a&lt;b</b>');
  });
});
