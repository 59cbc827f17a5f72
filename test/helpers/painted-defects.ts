/** A tiny defect set with pixel masks: grey textured 64x64 tiles, defects painted as dark strokes or bright blobs, masks beside them (Magnetic-tile layout). */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { tempDir } from './cli';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

/** ROOT/good/<n>.jpg + <n>.png (empty masks) and ROOT/defect/<n>.jpg + <n>.png (painted masks). */
export async function paintedDefects(o: { normal?: number; defect?: number; size?: number; masks?: boolean } = {}): Promise<string> {
  const root = join(tempDir('flawscope-painted-'), 'data');
  const S = o.size ?? 64;
  const r = rng(7);
  for (const [cls, n] of [['good', o.normal ?? 10], ['defect', o.defect ?? 8]] as const) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let k = 0; k < n; k++) {
      const img = new Uint8Array(S * S);
      const mask = new Uint8Array(S * S);
      for (let i = 0; i < img.length; i++) img[i] = 110 + Math.round(30 * Math.sin((i % S) / 3 + k)) + Math.round(r() * 20);
      if (cls === 'defect') {
        const cx = 10 + Math.floor(r() * (S - 20)), cy = 10 + Math.floor(r() * (S - 20)), rad = 3 + Math.floor(r() * 5);
        for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
          if ((x - cx) ** 2 + (y - cy) ** 2 <= rad * rad) { img[y * S + x] = k % 2 ? 20 : 245; mask[y * S + x] = 255; }
        }
      }
      await sharp(Buffer.from(img), { raw: { width: S, height: S, channels: 1 } }).jpeg({ quality: 95 }).toFile(join(root, cls, `${cls}${k}.jpg`));
      if (o.masks !== false) await sharp(Buffer.from(mask), { raw: { width: S, height: S, channels: 1 } }).png().toFile(join(root, cls, `${cls}${k}.png`));
    }
  }
  return root;
}
