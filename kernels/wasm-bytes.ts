// The kernel builds' bytes. Under tsx/Node they are read from kernels/native/*.wasm, the only
// committed copies; esbuild.mjs replaces this module in every bundle with one that embeds the same
// files through esbuild's binary loader, so dist/ and the .vsix need no .wasm file beside them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type KernelFile = 'kernels.wasm' | 'kernels-relaxed.wasm';

export function kernelWasmBytes(file: KernelFile): Uint8Array<ArrayBuffer> {
  const b = readFileSync(join(__dirname, 'native', file));
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
