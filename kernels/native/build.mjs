// Builds kernels.c into kernels.wasm (SIMD128) and kernels-relaxed.wasm (relaxed SIMD). These two
// files are the only committed copies: the bundles embed them (esbuild.mjs, binary loader) and
// tsx/Node reads them from here (kernels/wasm-bytes.ts).
// Needs clang 16 or later and its wasm-ld (Debian 12: `apt-get install -y clang-16 lld-16`):
// relaxed SIMD is not in clang 14. The tools are looked up, never assumed to be at one path:
//   clang:        $CLANG, else clang-16 or clang on PATH
//   wasm-ld:      $WASM_LD, else wasm-ld-16 or wasm-ld on PATH, else the one beside clang's real path
//   llvm-objdump: $OBJDUMP, else llvm-objdump-16 or llvm-objdump on PATH, else beside clang
// Usage: node kernels/native/build.mjs [--out DIR]   (--out: write DIR/kernels*.wasm instead, for the
//        rebuild-parity test)
//        node kernels/native/build.mjs --tools       (print the tools found as JSON; exit 1 naming
//        the missing one)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function onPath(name) {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return undefined;
}

function runs(tool) {
  return spawnSync(tool, ['--version']).status === 0;
}

/** The tools, or an error naming the missing one and how to get it. An env var that names a tool
 * that does not run is an error too (a typo must not fall back to another clang silently). */
export function findTools() {
  const pick = (envName, names, besideClang) => {
    const fromEnv = process.env[envName];
    if (fromEnv) {
      if (!runs(fromEnv)) throw new Error(`${envName}=${fromEnv} does not run: point ${envName} at a working binary or unset it`);
      return fromEnv;
    }
    for (const n of names) {
      const p = onPath(n);
      if (p && runs(p)) return p;
    }
    if (besideClang) {
      for (const n of names) {
        const p = join(dirname(realpathSync(besideClang)), n);
        if (existsSync(p) && runs(p)) return p;
      }
    }
    return undefined;
  };
  const clang = pick('CLANG', ['clang-16', 'clang']);
  if (!clang) throw new Error('clang not found: install clang 16+ and lld (Debian 12: apt-get install -y clang-16 lld-16), or set CLANG and WASM_LD');
  const wasmLd = pick('WASM_LD', ['wasm-ld-16', 'wasm-ld'], clang);
  if (!wasmLd) throw new Error(`wasm-ld not found (clang is ${clang}): install lld (Debian 12: apt-get install -y lld-16), or set WASM_LD`);
  const objdump = pick('OBJDUMP', ['llvm-objdump-16', 'llvm-objdump'], clang);
  return { clang, wasmLd, objdump };
}

export const FLAGS = [
  '--target=wasm32', '-O3', '-msimd128', '-matomics', '-mbulk-memory', '-nostdlib', '-ffreestanding', '-fno-builtin',
  '-Wall', '-Wextra', '-Werror',
  '-Wl,--no-entry', '-Wl,--import-memory', '-Wl,--shared-memory', '-Wl,--max-memory=4294967296',
  '-Wl,-z,stack-size=65536', '-Wl,--export=__heap_base', '-Wl,--strip-all',
];
export const VARIANTS = [
  { file: 'kernels.wasm', flags: [] },
  { file: 'kernels-relaxed.wasm', flags: ['-mrelaxed-simd', '-DFLAWSCOPE_RELAXED'] },
];

function build(outDir) {
  const { clang, wasmLd, objdump } = findTools();
  mkdirSync(outDir, { recursive: true });
  for (const v of VARIANTS) {
    const wasmPath = join(outDir, v.file);
    execFileSync(clang, [...FLAGS, ...v.flags, `-fuse-ld=${wasmLd}`, '-o', wasmPath, join(here, 'kernels.c')], { stdio: 'inherit' });
    // The kernels run on several threads sharing one memory with one shadow stack: they must not
    // touch the stack pointer (global 0) at all.
    if (!objdump) {
      console.warn('llvm-objdump not found: shadow-stack check skipped');
      continue;
    }
    const dis = execFileSync(objdump, ['-d', wasmPath]).toString();
    if (/global\.(get|set)/.test(dis)) throw new Error(`${v.file} uses the shadow stack (global.get/set): not thread safe`);
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  try {
    if (args.includes('--tools')) {
      console.log(JSON.stringify(findTools()));
    } else {
      const outIdx = args.indexOf('--out');
      if (outIdx >= 0 && !args[outIdx + 1]) throw new Error('--out needs a folder');
      build(outIdx >= 0 ? args[outIdx + 1] : here);
    }
  } catch (e) {
    console.error(`kernels/native/build.mjs: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
