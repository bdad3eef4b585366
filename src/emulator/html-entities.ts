/**
 * Decodes an HTML character reference starting at `src[pos] === '&'` as Telegram's HTML
 * parse mode does (&lt; &gt; &amp; &quot; and numeric ones); undefined when it is not one
 * Telegram knows.
 */
export function decodeEntity(src: string, pos: number): { value: string; end: number } | undefined {
  let end = pos + 1;
  let value: string | undefined;
  if (src[end] === '#') {
    end++;
    let code = 0;
    let digits = 0;
    if (src[end] === 'x' || src[end] === 'X') {
      end++;
      while (end < src.length && /^[0-9a-fA-F]$/.test(src[end] ?? '')) {
        code = code * 16 + parseInt(src[end] ?? '0', 16);
        end++;
        digits++;
        if (code > 0x10ffff) return undefined;
      }
    } else {
      while (end < src.length && /^[0-9]$/.test(src[end] ?? '')) {
        code = code * 10 + Number(src[end]);
        end++;
        digits++;
        if (code > 0x10ffff) return undefined;
      }
    }
    if (digits === 0 || code === 0 || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    value = String.fromCodePoint(code);
  } else {
    while (end < src.length && /^[A-Za-z]$/.test(src[end] ?? '')) end++;
    const names: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };
    value = names[src.slice(pos + 1, end)];
    if (value === undefined) return undefined;
  }
  if (src[end] === ';') end++;
  return { value, end };
}
