import type { MessageEntity } from 'grammy/types';
import { detectEntities } from '../../emulator';

/** Telegram's limit for one message text, in UTF-16 code units. */
export const TEXT_LIMIT = 4096;
/** Telegram's limit for a caption. */
export const CAPTION_LIMIT = 1024;

const WRAPPERS: Array<{ marker: string; type: 'bold' | 'italic' | 'strikethrough' | 'spoiler' }> = [
  { marker: '**', type: 'bold' },
  { marker: '__', type: 'italic' },
  { marker: '~~', type: 'strikethrough' },
  { marker: '||', type: 'spoiler' },
];

interface Parsed {
  text: string;
  entities: MessageEntity[];
}

function parse(src: string): Parsed {
  let text = '';
  const entities: MessageEntity[] = [];
  let i = 0;
  outer: while (i < src.length) {
    if (src.startsWith('```', i)) {
      const end = src.indexOf('```', i + 3);
      const body =
        end > i + 3
          ? src
              .slice(i + 3, end)
              .replace(/^\n/, '')
              .replace(/\n$/, '')
          : '';
      if (body !== '') {
        entities.push({ type: 'pre', offset: text.length, length: body.length });
        text += body;
        i = end + 3;
        continue;
      }
    } else if (src[i] === '`') {
      const end = src.indexOf('`', i + 1);
      if (end > i + 1 && !src.slice(i + 1, end).includes('\n')) {
        const body = src.slice(i + 1, end);
        entities.push({ type: 'code', offset: text.length, length: body.length });
        text += body;
        i = end + 1;
        continue;
      }
    } else {
      for (const { marker, type } of WRAPPERS) {
        if (!src.startsWith(marker, i)) continue;
        const end = src.indexOf(marker, i + marker.length);
        if (end <= i + marker.length) continue;
        const inner = parse(src.slice(i + marker.length, end));
        const offset = text.length;
        entities.push({ type, offset, length: inner.text.length });
        for (const e of inner.entities) entities.push({ ...e, offset: e.offset + offset });
        text += inner.text;
        i = end + marker.length;
        continue outer;
      }
    }
    text += src[i];
    i++;
  }
  return { text, entities: entities.filter((e) => e.length > 0) };
}

/**
 * What a staff member typed, as Telegram Desktop sends it: `**bold**`, `__italic__`,
 * `~~strikethrough~~`, `||spoiler||`, `` `code` `` and ```` ```pre``` ```` become
 * formatting entities (the markers go), and Telegram's own detection adds bot
 * commands, URLs, mentions… outside code. Leading and trailing spaces are trimmed.
 */
export function composeText(raw: string): Parsed {
  const parsed = parse(raw.trim());
  const code = parsed.entities.filter((e) => e.type === 'code' || e.type === 'pre');
  const detected = detectEntities(parsed.text).filter(
    (d) => !code.some((c) => d.offset < c.offset + c.length && c.offset < d.offset + d.length),
  );
  const entities = [...parsed.entities, ...detected].sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text: parsed.text, entities };
}
