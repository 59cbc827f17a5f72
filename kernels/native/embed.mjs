// esbuild plugin: in a bundle, kernels/wasm-bytes.ts (which reads kernels/native/*.wasm from disk
// under tsx/Node) is replaced by a module that embeds the same files with esbuild's binary
// loader, so no bundle (dist/cli.js, the .vsix) needs a .wasm file beside it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const kernelsDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export const embedKernels = {
  name: 'embed-kernels',
  setup(build) {
    build.onLoad({ filter: /[\\/]kernels[\\/]wasm-bytes\.ts$/ }, () => ({
      loader: 'js',
      resolveDir: kernelsDir,
      contents: [
        "import plain from './native/kernels.wasm';",
        "import relaxed from './native/kernels-relaxed.wasm';",
        "const files = { 'kernels.wasm': plain, 'kernels-relaxed.wasm': relaxed };",
        'export function kernelWasmBytes(file) { return files[file]; }',
      ].join('\n'),
      watchFiles: [join(kernelsDir, 'native/kernels.wasm'), join(kernelsDir, 'native/kernels-relaxed.wasm')],
    }));
  },
};
