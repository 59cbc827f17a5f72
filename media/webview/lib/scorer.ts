/**
 * Loads the scorer bundle (dist/scorer/index.js, browser ESM) inside the webview. The import is
 * made from this nonced script, so the module inherits the nonce under the panel's CSP.
 * The types are the scorer's own (type-only imports: nothing of scorer/ is bundled here).
 */
import type { ScorerRef, ModelRef } from '../../../shared/protocol';
import type { HeatLayer, PixelImage, Scorer, ScoreResult } from '../../../scorer/index';
import { DATASET_IMAGE_EXTENSIONS } from '../../../scorer/image-extensions';

export type { HeatLayer };
export type { ScoreResult };
/**
 * A loaded scorer (scorer/scorer.ts's Scorer). overlay() is typed wider than the scorer's own
 * Uint8ClampedArray because the panels also take the other pixel shapes toImageData reads.
 */
export type ScorerInstance = Omit<Scorer, 'overlay'> & {
  overlay(...args: Parameters<Scorer['overlay']>): ReturnType<Scorer['overlay']> | Uint8Array | ImageData | PixelImage;
};
/** What the scorer bundle exports (scorer/index.ts). */
type ScorerModule = typeof import('../../../scorer/index');

let modPromise: Promise<ScorerModule> | null = null;

export async function loadScorer(ref: ScorerRef, model: ModelRef): Promise<ScorerInstance> {
  if (!modPromise) {
    modPromise = import(/* @vite-ignore */ ref.moduleUrl) as Promise<ScorerModule>;
    modPromise.catch(() => (modPromise = null));
  }
  let mod: ScorerModule;
  try {
    mod = await modPromise;
  } catch (e) {
    throw new Error(`the scorer bundle could not be loaded (${ref.moduleUrl}): ${(e as Error).message}`);
  }
  if (!mod.Scorer || typeof mod.Scorer.load !== 'function') throw new Error('the scorer bundle does not export Scorer.load');
  return mod.Scorer.load(model.url, { backend: ref.backend, wasmPaths: ref.wasmPrefix });
}

/** Fetches an image URL from the webview's resource origin and returns its pixels. */
/** Decodes an image given by its webview URL or by the file's bytes. */
export async function loadImage(src: string | Uint8Array): Promise<{ bitmap: ImageBitmap; data: ImageData }> {
  let blob: Blob;
  if (typeof src === 'string') {
    const res = await fetch(src);
    if (!res.ok) throw new Error(`cannot read the image (HTTP ${res.status})`);
    blob = await res.blob();
  } else {
    blob = new Blob([src as Uint8Array<ArrayBuffer>]);
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    // Chromium has no TIFF decoder; inspection photos often are TIFF.
    const tiff = await decodeTiff(await blob.arrayBuffer());
    if (!tiff) throw new Error(`the image cannot be decoded here (the panel reads ${DATASET_IMAGE_EXTENSIONS.map((e) => e.slice(1)).join(', ')})`);
    bitmap = await createImageBitmap(tiff, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  }
  const c = document.createElement('canvas');
  c.width = bitmap.width;
  c.height = bitmap.height;
  const ctx = c.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' })!;
  ctx.drawImage(bitmap, 0, 0);
  return { bitmap, data: ctx.getImageData(0, 0, c.width, c.height) };
}

/** Anything pixel-like → ImageData (RGBA) for drawing. */
export function toImageData(p: PixelImage | ImageData | Uint8ClampedArray | Uint8Array, width: number, height: number): ImageData {
  if (typeof ImageData !== 'undefined' && p instanceof ImageData) return p;
  const src = (p as PixelImage).data ?? (p as Uint8Array);
  const w = (p as PixelImage).width ?? width;
  const h = (p as PixelImage).height ?? height;
  const ch = (p as PixelImage).channels ?? Math.round(src.length / (w * h));
  const out = new ImageData(w, h);
  const isFloat = src instanceof Float32Array;
  for (let i = 0; i < w * h; i++) {
    for (let k = 0; k < 3; k++) {
      let v = Number(src[i * ch + (ch >= 3 ? k : 0)]);
      if (isFloat) v = v <= 1.0001 && v >= -1.0001 ? (v + 1) * 127.5 : v; // tanh output in [-1, 1]
      out.data[i * 4 + k] = v;
    }
    out.data[i * 4 + 3] = ch === 4 || ch === 2 ? Number(src[i * ch + ch - 1]) : 255;
  }
  return out;
}

/** An error map (Float32, one value per pixel) → grey ImageData scaled to its own maximum. */
export function errorMapImage(map: Float32Array, width: number, height: number): ImageData {
  let max = 1e-12;
  for (let i = 0; i < map.length; i++) if (map[i] > max) max = map[i];
  const out = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = Math.round((255 * (map[i] ?? 0)) / max);
    out.data[i * 4] = out.data[i * 4 + 1] = out.data[i * 4 + 2] = v;
    out.data[i * 4 + 3] = 255;
  }
  return out;
}

/** The first page of a TIFF as RGBA pixels (pure-JS decoder, no eval), or null if not a TIFF. */
export async function decodeTiff(buf: ArrayBuffer): Promise<ImageData | null> {
  const b = new Uint8Array(buf, 0, Math.min(4, buf.byteLength));
  const magic = b.length === 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42));
  if (!magic) return null;
  const UTIF = (await import('utif')).default as typeof import('utif');
  try {
    const ifds = UTIF.decode(buf);
    const page = ifds.find((i) => (i.width ?? 0) > 0) ?? ifds[0];
    if (!page) return null;
    UTIF.decodeImage(buf, page);
    const w = page.width, h = page.height;
    if (!(w > 0 && h > 0)) return null;
    return new ImageData(Uint8ClampedArray.from(UTIF.toRGBA8(page)), w, h);
  } catch {
    return null;
  }
}
