import { splitForTelegram } from '../../src/outbox/telegram-gateway';

describe('splitForTelegram', () => {
  it('keeps short text whole', () => {
    expect(splitForTelegram('hello')).toEqual(['hello']);
    expect(splitForTelegram('')).toEqual(['']);
  });

  it('splits at line boundaries first, each chunk within the limit, losing nothing', () => {
    const text = Array.from({ length: 200 }, (_, i) => `line ${i} `.padEnd(60, 'x')).join('\n');
    const chunks = splitForTelegram(text);
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(4096);
    expect(chunks.join('\n')).toBe(text);
    for (const c of chunks) expect(c.endsWith('x')).toBe(true);
  });

  it('splits a text without spaces hard, and never halves a surrogate pair', () => {
    const text = 'a' + '😀'.repeat(3000);
    const chunks = splitForTelegram(text, 100);
    expect(chunks.join('')).toBe(text);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(100);
      expect(c).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    }
  });
});
