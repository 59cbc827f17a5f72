/**
 * Bounded image decoding with sharp: every image the readers touch goes through here, so the
 * pixel limit, EXIF rotation and channel/bit-depth conversion are applied the same way everywhere.
 */
import fs from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import sharp from 'sharp';
import { DATASET_IMAGE_EXTENSIONS } from '../../scorer/image-extensions';
import { convertChannels, resizePixels } from '../../scorer/preprocess';
import { fsReason, InputError } from './types';


export const DEFAULT_MAX_PIXELS = 50e6;

/** Whether the folder readers treat `name` as an image (DATASET_IMAGE_EXTENSIONS); anything else is counted and ignored. */
export function isImageFile(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot >= 0 && (DATASET_IMAGE_EXTENSIONS as readonly string[]).includes(name.slice(dot).toLowerCase());
}

export interface DecodeOptions {
  /** Output is size x size. Non-square sources are stretched ('fill'), not cropped: cropping could
   * cut a defect at the border out of the image and turn an anomaly into a "normal". */
  size: number;
  /** 1 or 3; when absent, 1 for greyscale sources and 3 for colour ones (the caller unifies). */
  channels?: 1 | 3;
  /** Refuse larger images (width x height, before decoding) — decompression bombs. */
  maxPixels?: number;
}

export interface DecodedImage {
  data: Uint8Array;
  channels: 1 | 3;
  /** The source had no colour (grey or grey+alpha, any bit depth). */
  grey: boolean;
  /** Source dimensions after EXIF orientation. */
  width: number;
  height: number;
}

export interface ImageInfo {
  width: number;
  height: number;
  grey: boolean;
  /** Channels in the file: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA or CMYK. */
  fileChannels: number;
  /** 'uchar' for 8-bit, 'ushort' for 16-bit, ... */
  depth: string;
  format: string;
  hasAlpha: boolean;
}

/** Reads the header only (no pixel decoding): size, colour and bit depth. Throws InputError. */
export async function probeImage(input: string | Buffer): Promise<ImageInfo> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    // sharp says "unsupported image format" for a file it may not open: say what is wrong.
    const denied = typeof input === 'string' ? await fs.access(input, fsConstants.R_OK).then(() => null, (e: unknown) => e) : null;
    if (denied) throw new InputError(`${input}: cannot be read: ${fsReason(denied)}. Fix its permissions (chmod) or remove the file.`);
    throw new InputError(`${label(input)}: not a readable image (${shortReason(err)}). Remove or replace the file.`);
  }
  if (!meta.width || !meta.height) {
    throw new InputError(`${label(input)}: image header has no size. Remove or replace the file.`);
  }
  // EXIF orientations 5-8 swap width and height.
  const swap = (meta.orientation ?? 1) >= 5;
  const fileChannels = meta.channels ?? 3;
  return {
    width: swap ? meta.height : meta.width,
    height: swap ? meta.width : meta.height,
    grey: meta.space === 'b-w' || meta.space === 'grey16' || fileChannels <= 2,
    fileChannels,
    depth: meta.depth ?? 'uchar',
    format: meta.format ?? 'unknown',
    hasAlpha: meta.hasAlpha ?? false,
  };
}

/** Decodes one image to `size`x`size`x`channels` uint8. Throws InputError for unreadable,
 * oversized or corrupt files (the message names the file). */
export async function decodeImage(file: string | Buffer, opts: DecodeOptions): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  // Read the file once for both the header check and the decode.
  const input = typeof file === 'string' ? await readInput(file) : file;
  const info = await probeImage(input).catch((err: unknown) => {
    throw relabel(err, file);
  });
  if (info.width * info.height > maxPixels) {
    throw new InputError(
      `${label(file)}: ${info.width}x${info.height} pixels exceeds the limit of ${maxPixels} pixels; ` +
        'downscale it, cut it into tiles, or raise the limit (--max-pixels).',
    );
  }
  const channels: 1 | 3 = opts.channels ?? (info.grey ? 1 : 3);
  const full = await decodeNative(input, file, info, maxPixels);
  // Channels and size through the scorer's own functions, so a trained model sees exactly what
  // the scorer will feed it (scorer/preprocess.ts is the one preprocessing module).
  const px = resizePixels(convertChannels(full.data, full.width * full.height, full.channels, channels), full.width, full.height, channels, opts.size, opts.size);
  return { data: px, channels, grey: info.grey, width: info.width, height: info.height };
}

/** Decodes at the source resolution, EXIF-oriented, alpha flattened onto black, as 1 channel
 * for grey sources and 3 (sRGB) otherwise — the same decode as the scorer's Node adapter. */
async function decodeNative(input: string | Buffer, file: string | Buffer, info: ImageInfo, maxPixels: number): Promise<{ data: Uint8Array; width: number; height: number; channels: 1 | 3 }> {
  const want: 1 | 3 = info.grey ? 1 : 3;
  try {
    // failOn 'warning' turns truncated/corrupt data into an error instead of a half-grey image.
    let img = sharp(input, { limitInputPixels: maxPixels, failOn: 'warning' }).autoOrient();
    // Transparent pixels become black, the same for grey+alpha and RGBA (only when there is an
    // alpha channel: flattening costs ~20% of the decode).
    if (info.hasAlpha) img = img.flatten({ background: '#000000' });
    img = want === 1 ? img.toColourspace('b-w') : img.toColourspace('srgb');
    const { data, info: out } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    let px = new Uint8Array(data.buffer, data.byteOffset, data.length);
    if (out.channels !== want) px = forceChannels(px, out.channels, want);
    return { data: px, width: out.width, height: out.height, channels: want };
  } catch (err) {
    if (err instanceof InputError) throw relabel(err, file);
    throw new InputError(`${label(file)}: cannot decode (${shortReason(err)}). Remove or replace the file.`);
  }
}

/** Files larger than this are not read into memory just to look at their header. */
const READ_WHOLE_MAX = 64 * 2 ** 20;

async function readInput(file: string): Promise<string | Buffer> {
  const unreadable = (err: unknown) => new InputError(`${file}: cannot be read: ${fsReason(err)}. Fix its permissions (chmod) or remove the file.`);
  const st = await fs.stat(file).catch((err: unknown) => { throw unreadable(err); });
  if (st.size === 0) throw new InputError(`${file}: empty file (0 bytes). Remove or replace the file.`);
  if (st.size > READ_WHOLE_MAX) await fs.access(file, fsConstants.R_OK).catch((err: unknown) => { throw unreadable(err); });
  return st.size <= READ_WHOLE_MAX ? fs.readFile(file).catch((err: unknown) => { throw unreadable(err); }) : file;
}

function relabel(err: unknown, file: string | Buffer): unknown {
  if (err instanceof InputError && typeof file === 'string') return new InputError(err.message.replace('<image buffer>', file));
  return err;
}

/** Decodes at the source resolution (EXIF-oriented), for cutting patches. Same limits and
 * conversions as decodeImage. */
export async function decodeFull(
  input: string,
  opts: { channels?: 1 | 3; maxPixels?: number },
): Promise<{ data: Uint8Array; width: number; height: number; channels: 1 | 3; grey: boolean }> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const info = await probeImage(input);
  if (info.width * info.height > maxPixels) {
    throw new InputError(`${input}: ${info.width}x${info.height} pixels exceeds the limit of ${maxPixels} pixels; downscale it, or raise the limit (--max-pixels).`);
  }
  const channels: 1 | 3 = opts.channels ?? (info.grey ? 1 : 3);
  const full = await decodeNative(input, input, info, maxPixels);
  const data = convertChannels(full.data, full.width * full.height, full.channels, channels);
  return { data, width: full.width, height: full.height, channels, grey: info.grey };
}

/** Fallback when libvips leaves an unexpected channel count (e.g. an alpha it did not drop). */
function forceChannels(src: Uint8Array, from: number, to: 1 | 3): Uint8Array {
  const n = src.length / from;
  const out = new Uint8Array(n * to);
  for (let i = 0; i < n; i++) {
    const r = src[i * from];
    const g = from >= 3 ? src[i * from + 1] : r;
    const b = from >= 3 ? src[i * from + 2] : r;
    if (to === 1) out[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    else {
      out[i * 3] = r;
      out[i * 3 + 1] = g;
      out[i * 3 + 2] = b;
    }
  }
  return out;
}

function label(input: string | Buffer): string {
  return typeof input === 'string' ? input : '<image buffer>';
}

function shortReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].slice(0, 200);
}
