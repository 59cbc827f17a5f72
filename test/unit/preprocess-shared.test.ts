/** Training and scoring preprocess an image identically: one module (scorer/preprocess.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import sharp from 'sharp';
import { decodeImage } from '../../trainer/data/decode';
import { decodeImageFile } from '../../scorer/node';
import { convertChannels, resizePixels } from '../../scorer/preprocess';

test('the trainer decode equals the scorer decode + convertChannels + resizePixels, byte for byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-pre-'));
  const cases: [string, number, number, 1 | 3 | 4][] = [['rgb.png', 50, 40, 3], ['grey.png', 28, 28, 1], ['rgba.png', 70, 33, 4]];
  for (const [name, w, h, c] of cases) {
    const px = Buffer.alloc(w * h * c);
    for (let i = 0; i < px.length; i++) px[i] = (i * 37 + (i % 7) * 11) % 256;
    const img = sharp(px, { raw: { width: w, height: h, channels: c } });
    await (c === 1 ? img.toColourspace('b-w') : img).png().toFile(join(dir, name));
    for (const channels of [1, 3] as const) {
      const t = await decodeImage(join(dir, name), { size: 32, channels });
      const s = await decodeImageFile(join(dir, name));
      const want = resizePixels(convertChannels(s.data, s.width * s.height, s.channels, channels), s.width, s.height, channels, 32, 32);
      assert.deepEqual(Buffer.from(t.data), Buffer.from(want), `${name} → ${channels} channel(s)`);
    }
  }
});
