import jsQR from 'jsqr';
import { encodeQr, qrPath, type QrMatrix } from '../../client/lib/qr';

/**
 * The page's own QR encoder (client/lib/qr.ts), read back by an independent
 * decoder (jsQR) from a rendered bitmap with the 4-module quiet zone.
 */
function render(matrix: QrMatrix, scale = 4, margin = 4): { data: Uint8ClampedArray; width: number; height: number } {
  const width = (matrix.length + margin * 2) * scale;
  const data = new Uint8ClampedArray(width * width * 4).fill(255);
  matrix.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const i = (((y + margin) * scale + dy) * width + (x + margin) * scale + dx) * 4;
          data[i] = data[i + 1] = data[i + 2] = 0;
        }
      }
    }),
  );
  return { data, width, height: width };
}

const decode = (matrix: QrMatrix) => {
  const { data, width, height } = render(matrix);
  return jsQR(data, width, height, { inversionAttempts: 'dontInvert' });
};

describe('the QR encoder of the visitor page', () => {
  it('encodes a Telegram verification link that a decoder reads back exactly (version 5, 37×37)', () => {
    const link = 'https://t.me/topicdesk_test_bot?start=' + 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd'.slice(0, 43);
    const matrix = encodeQr(link);
    expect(matrix).toHaveLength(37);
    const read = decode(matrix);
    expect(read?.data).toBe(link);
    expect(read?.version).toBe(5);
  });

  it.each([1, 14, 15, 60, 84, 85, 106, 150, 213, 214, 400, 1000])(
    'round-trips %i bytes, choosing the smallest version that fits',
    (length) => {
      const text = Array.from({ length }, (_, i) => 'abcdefghijklmnopqrstuvwxyz0123456789:/?=_-'[(i * 7) % 42]).join('');
      const matrix = encodeQr(text);
      expect(matrix.length).toBe(matrix[0].length);
      const version = (matrix.length - 17) / 4;
      // Level M, byte mode: versions 1, 5, 6 and 10 hold 14, 84, 106 and 213 bytes.
      if (length === 14) expect(version).toBe(1);
      if (length === 15) expect(version).toBe(2);
      if (length === 84) expect(version).toBe(5);
      if (length === 85) expect(version).toBe(6);
      if (length === 213) expect(version).toBe(10);
      if (length === 214) expect(version).toBe(11);
      expect(decode(matrix)?.data).toBe(text);
    },
  );

  it('encodes UTF-8 text', () => {
    const text = 'Doğrulama bağlantısı: https://t.me/bot?start=çğıöşü';
    expect(decode(encodeQr(text))?.data).toBe(text);
  });

  it('draws the dark modules as one SVG path of runs inside the quiet zone', () => {
    const matrix = encodeQr('https://t.me/x');
    const d = qrPath(matrix);
    expect(d).toMatch(/^(M\d+ \d+h\d+v1h-\d+z)+$/);
    // Reading the path back gives the matrix.
    const size = matrix.length;
    const back: boolean[][] = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
    for (const [, x, y, n] of d.matchAll(/M(\d+) (\d+)h(\d+)/g))
      for (let i = 0; i < Number(n); i++) back[Number(y) - 4][Number(x) - 4 + i] = true;
    expect(back).toEqual(matrix);
  });

  it('refuses text that no QR version holds', () => {
    expect(() => encodeQr('x'.repeat(3000))).toThrow(RangeError);
  });
});
