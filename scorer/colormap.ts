/** Colormaps as 256-entry RGB lookup tables, and the heat overlay. */
export type ColormapName = 'turbo' | 'viridis' | 'grey';

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

// Turbo, polynomial approximation by Ruofei Du / Google (Apache-2.0), max error ≈ 0.02.
function turbo(x: number): [number, number, number] {
  const x2 = x * x, x3 = x2 * x, x4 = x3 * x, x5 = x4 * x;
  return [
    0.13572138 + 4.6153926 * x - 42.66032258 * x2 + 132.13108234 * x3 - 152.94239396 * x4 + 59.28637943 * x5,
    0.09140261 + 2.19418839 * x + 4.84296658 * x2 - 14.18503333 * x3 + 4.27729857 * x4 + 2.82956604 * x5,
    0.1066733 + 12.64194608 * x - 60.58204836 * x2 + 110.36276771 * x3 - 89.90310912 * x4 + 27.34824973 * x5,
  ];
}

// Viridis, degree-6 polynomial fit (public domain, after Matt Zucker), max error ≈ 0.01.
function viridis(x: number): [number, number, number] {
  const x2 = x * x, x3 = x2 * x, x4 = x3 * x, x5 = x4 * x;
  return [
    0.280268003 - 0.143510503 * x + 2.225793877 * x2 - 14.815088879 * x3 + 25.212752309 * x4 - 11.772589584 * x5,
    -0.002117546 + 1.617109353 * x - 1.90930507 * x2 + 2.701152864 * x3 - 1.685288385 * x4 + 0.178738871 * x5,
    0.300805501 + 2.614650302 * x - 12.01913909 * x2 + 28.93355911 * x3 - 33.49129477 * x4 + 13.762053843 * x5,
  ];
}

const luts = new Map<ColormapName, Uint8Array>();

/** 256 x RGB lookup table of a colormap (index 0 = no error, 255 = saturated). */
export function colormapLut(name: ColormapName): Uint8Array {
  let lut = luts.get(name);
  if (lut) return lut;
  const fn = name === 'turbo' ? turbo : name === 'viridis' ? viridis : name === 'grey' ? (x: number): [number, number, number] => [x, x, x] : null;
  if (!fn) throw new Error(`unknown colormap "${String(name)}" (use turbo, viridis or grey)`);
  lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const rgb = fn(i / 255);
    for (let k = 0; k < 3; k++) lut[i * 3 + k] = Math.round(clamp01(rgb[k]) * 255);
  }
  luts.set(name, lut);
  return lut;
}

/**
 * Blends a colormapped error map over a base image: out = (1-alpha)·base + alpha·colour, where
 * colour = colormap((err - lo) / (hi - lo)). The base is grey (1/2 channels) or RGB (3/4 channels).
 */
export function blendHeat(
  base: { data: ArrayLike<number>; width: number; height: number; channels: number },
  err: Float32Array, lo: number, hi: number, colormap: ColormapName, alpha: number,
): Uint8ClampedArray {
  const { width: w, height: h, channels: c, data } = base;
  if (err.length !== w * h) throw new Error(`error map has ${err.length} values, image has ${w * h} pixels`);
  const lut = colormapLut(colormap);
  const a = clamp01(alpha), b = 1 - a;
  const span = hi > lo ? hi - lo : 1;
  const out = new Uint8ClampedArray(w * h * 4);
  const grey = c < 3;
  for (let i = 0; i < w * h; i++) {
    let t = ((err[i] - lo) / span) * 255;
    t = t < 0 ? 0 : t > 255 ? 255 : t;
    const li = (t | 0) * 3;
    const r0 = data[i * c], g0 = grey ? r0 : data[i * c + 1], b0 = grey ? r0 : data[i * c + 2];
    out[i * 4] = b * r0 + a * lut[li];
    out[i * 4 + 1] = b * g0 + a * lut[li + 1];
    out[i * 4 + 2] = b * b0 + a * lut[li + 2];
    out[i * 4 + 3] = 255;
  }
  return out;
}
