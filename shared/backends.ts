/**
 * One backend vocabulary for every command and the webview: each name means the same engine
 * wherever it is accepted, and each place accepts the subset it can run. The README's "Backends"
 * table is this file in prose; keep them together.
 *
 * No `vscode` and no Node import: the webview bundles the types.
 */
import { z } from 'zod';

export const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'fast', 'wasm', 'cpu'] as const;
export type Backend = (typeof BACKENDS)[number];

export const BACKEND_MEANING: Record<Backend, string> = {
  auto: 'the fastest one present (each place says its order, and every run says which it picked and why)',
  tensorflow: 'TensorFlow native through @tensorflow/tfjs-node-gpu (CUDA) or -node (CPU); optional packages',
  webgpu: 'the GPU through WebGPU: tfjs-backend-webgpu, in Node through the optional npm package "webgpu" (Dawn), in a browser or webview through navigator.gpu',
  fast: "Flawscope's multi-threaded WebAssembly SIMD kernels on the CPU (Node only)",
  wasm: "tfjs's own WebAssembly backend (inference only: it has no training kernels)",
  cpu: "tfjs's plain JavaScript CPU backend: the slow reference",
};

/** Which names each place accepts (auto first). */
export const BACKENDS_OF = {
  train: ['auto', 'tensorflow', 'webgpu', 'fast'],
  score: ['auto', 'webgpu', 'fast', 'wasm', 'cpu'],
  calibrate: ['auto', 'webgpu', 'fast', 'wasm', 'cpu'],
  eval: ['fast', 'wasm', 'cpu'],
  webview: ['auto', 'webgpu', 'wasm', 'cpu'],
} as const satisfies Record<string, readonly Backend[]>;
export type BackendPlace = keyof typeof BACKENDS_OF;
export type BackendOf<P extends BackendPlace> = (typeof BACKENDS_OF)[P][number];

/**
 * Names a place accepted before the vocabulary was shared, kept for one release (like `--stride`
 * → `--tile-stride`): what each now is, said in a note whenever one is used.
 */
export const OLD_BACKEND_NAMES: { [P in BackendPlace]?: Partial<Record<string, BackendOf<P>>> } = {
  // `train --backend cpu` ran the fast kernels, never tfjs's plain cpu backend; `wasm` was refused
  // (tfjs's WASM backend cannot train) and meant the same kernels in the error's advice.
  train: { cpu: 'fast', wasm: 'fast' },
};

export function oldBackendNote(place: BackendPlace, old: string, now: string): string {
  return `--backend ${old} is the old name of --backend ${now} in ${place}; it will be removed in the next release`;
}

/** The words every "expected …" message uses for a place's backends. */
export function backendExpectation(place: BackendPlace): string {
  const names: readonly string[] = BACKENDS_OF[place];
  const old = Object.keys(OLD_BACKEND_NAMES[place] ?? {});
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}${old.length ? ` (old names: ${old.map((o) => `${o} = ${OLD_BACKEND_NAMES[place]![o]}`).join(', ')})` : ''}`;
}

/**
 * The schema of one place's backend: its own names, plus the old ones (mapped to their new name),
 * so a saved config or a script from the last release still runs. Output: a name of the place.
 */
export function backendSchema<P extends BackendPlace>(place: P): z.ZodType<BackendOf<P>, z.ZodTypeDef, unknown> {
  const names = BACKENDS_OF[place] as readonly string[];
  const old = (OLD_BACKEND_NAMES[place] ?? {}) as Record<string, string>;
  return z
    .string()
    .refine((s) => names.includes(s) || Object.hasOwn(old, s), { message: `expected ${backendExpectation(place)}` })
    .transform((s) => (names.includes(s) ? s : old[s]!) as BackendOf<P>);
}

/** The old name in `given`, if it is one, with its note. */
export function oldBackendUse(place: BackendPlace, given: unknown): string | null {
  const old = (OLD_BACKEND_NAMES[place] ?? {}) as Record<string, string>;
  return typeof given === 'string' && Object.hasOwn(old, given) ? oldBackendNote(place, given, old[given]!) : null;
}
