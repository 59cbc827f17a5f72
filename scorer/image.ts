/** Turns any supported image input into validated uint8 interleaved pixels. Browser-safe, no Node imports. */
import { ScorerError } from './errors';

/** Raw pixels: interleaved uint8, `channels` 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA). */
export interface PixelImage {
  data: Uint8Array | Uint8ClampedArray | ArrayLike<number>;
  width: number;
  height: number;
  channels: number;
}

/** Everything `score()` accepts. Drawable inputs are read through a 2D canvas (RGBA). */
export type ImageInput =
  | PixelImage
  | ImageData
  | ImageBitmap
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | HTMLVideoElement
  | { data: ArrayLike<number>; width: number; height: number; channels?: number };

export interface ImageLimits {
  /** Largest accepted width x height (default 50 MP). */
  maxPixels: number;
  /** Largest accepted side (default 32768). */
  maxSide: number;
}

export const DEFAULT_LIMITS: ImageLimits = { maxPixels: 50_000_000, maxSide: 32768 };

export function checkSize(width: number, height: number, limits: ImageLimits, what = 'image'): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0)
    throw new ScorerError('IMAGE_INVALID', `${what}: width and height must be non-negative integers, got ${width}x${height}`);
  if (width === 0 || height === 0) throw new ScorerError('IMAGE_INVALID', `${what} is empty (${width}x${height} pixels)`);
  if (width > limits.maxSide || height > limits.maxSide || width * height > limits.maxPixels)
    throw new ScorerError(
      'IMAGE_TOO_LARGE',
      `${what} is ${width}x${height} pixels, over the limit (${limits.maxSide} px a side, ${(limits.maxPixels / 1e6).toFixed(0)} MP)`,
    );
}

const isDrawable = (x: unknown): boolean =>
  (typeof ImageBitmap !== 'undefined' && x instanceof ImageBitmap) ||
  (typeof HTMLImageElement !== 'undefined' && x instanceof HTMLImageElement) ||
  (typeof HTMLCanvasElement !== 'undefined' && x instanceof HTMLCanvasElement) ||
  (typeof OffscreenCanvas !== 'undefined' && x instanceof OffscreenCanvas) ||
  (typeof HTMLVideoElement !== 'undefined' && x instanceof HTMLVideoElement);

function drawableSize(x: any): [number, number] {
  if (typeof HTMLImageElement !== 'undefined' && x instanceof HTMLImageElement) {
    if (!x.complete || x.naturalWidth === 0) throw new ScorerError('IMAGE_INVALID', 'image element has not loaded (or could not be decoded)');
    return [x.naturalWidth, x.naturalHeight];
  }
  if (typeof HTMLVideoElement !== 'undefined' && x instanceof HTMLVideoElement) return [x.videoWidth, x.videoHeight];
  return [x.width, x.height];
}

function readDrawable(x: CanvasImageSource, w: number, h: number): Uint8ClampedArray {
  let ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (typeof OffscreenCanvas !== 'undefined') ctx = new OffscreenCanvas(w, h).getContext('2d', { willReadFrequently: true });
  else if (typeof document !== 'undefined') {
    const cv = document.createElement('canvas');
    cv.width = w; cv.height = h;
    ctx = cv.getContext('2d', { willReadFrequently: true });
  } else throw new ScorerError('IMAGE_INVALID', 'no canvas available to read this image; pass {data, width, height, channels}');
  if (!ctx) throw new ScorerError('IMAGE_INVALID', 'could not get a 2D canvas context to read the image');
  ctx.drawImage(x, 0, 0);
  return ctx.getImageData(0, 0, w, h).data;
}

/** Validates and converts any ImageInput to uint8 pixels (a copy is made only when needed). */
export function toPixels(input: ImageInput, limits: ImageLimits = DEFAULT_LIMITS): PixelImage & { data: Uint8Array | Uint8ClampedArray } {
  if (input == null || typeof input !== 'object') throw new ScorerError('IMAGE_INVALID', `not an image: ${input === null ? 'null' : typeof input}`);
  if (isDrawable(input)) {
    const [w, h] = drawableSize(input);
    checkSize(w, h, limits);
    return { data: readDrawable(input as CanvasImageSource, w, h), width: w, height: h, channels: 4 };
  }
  const o = input as { data?: ArrayLike<number>; width?: number; height?: number; channels?: number };
  if (!o.data || typeof o.data.length !== 'number' || typeof o.width !== 'number' || typeof o.height !== 'number')
    throw new ScorerError('IMAGE_INVALID', 'unsupported image: expected ImageData, ImageBitmap, an <img>/<canvas>, or {data, width, height, channels}');
  const { width: w, height: h } = o;
  checkSize(w, h, limits);
  let c = o.channels;
  if (c === undefined) {
    c = o.data.length / (w * h); // ImageData and friends: infer
    if (!Number.isInteger(c)) throw new ScorerError('IMAGE_INVALID', `image data has ${o.data.length} values, not a whole number of channels for ${w}x${h}`);
  }
  if (!Number.isInteger(c) || c < 1 || c > 4)
    throw new ScorerError('IMAGE_INVALID', `unsupported channel count ${c}: use 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA)`);
  if (o.data.length !== w * h * c)
    throw new ScorerError('IMAGE_INVALID', `image data has ${o.data.length} values, expected ${w}x${h}x${c} = ${w * h * c}`);
  const d = o.data;
  if (d instanceof Uint8Array || d instanceof Uint8ClampedArray) return { data: d, width: w, height: h, channels: c };
  if (d instanceof Float32Array || d instanceof Float64Array)
    throw new ScorerError('IMAGE_INVALID', 'image data must be 8-bit (Uint8Array/Uint8ClampedArray or numbers 0..255), got floats');
  return { data: Uint8ClampedArray.from(d as ArrayLike<number>), width: w, height: h, channels: c };
}
