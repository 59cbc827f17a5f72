// The committed WebAssembly (kernels/native/kernels.wasm and its embedded base64 copy in
// kernels/wasm-binary.ts) is exactly what native/build.mjs makes from kernels.c.
// Rebuilding needs clang 16 + its wasm-ld (Debian 12: apt-get install -y clang-16 lld-16); without
// them that check is reported as skipped, never as passed. Both builds are checked: kernels.wasm
// (SIMD128) and kernels-relaxed.wasm (relaxed SIMD multiply-add).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from '../../kernels/wasm-binary';

const dir = join(__dirname, '..', '..', 'kernels', 'native');

function haveClang(): boolean {
  const c = spawnSync(process.env.CLANG ?? 'clang-16', ['--version']);
  const l = spawnSync('/usr/lib/llvm-16/bin/wasm-ld', ['--version']);
  return c.status === 0 && l.status === 0;
}

describe('kernels.wasm', () => {
  it('the embedded base64 copies equal native/kernels.wasm and native/kernels-relaxed.wasm', () => {
    assert.ok(Buffer.from(KERNELS_WASM_BASE64, 'base64').equals(readFileSync(join(dir, 'kernels.wasm'))));
    assert.ok(Buffer.from(KERNELS_RELAXED_WASM_BASE64, 'base64').equals(readFileSync(join(dir, 'kernels-relaxed.wasm'))));
    assert.ok(!Buffer.from(KERNELS_WASM_BASE64, 'base64').equals(Buffer.from(KERNELS_RELAXED_WASM_BASE64, 'base64')), 'two different builds');
  });

  it('is valid WebAssembly that uses SIMD and shared memory', () => {
    const mod = new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
    const imports = WebAssembly.Module.imports(mod);
    assert.deepEqual(imports.map((i) => `${i.module}.${i.name}:${i.kind}`), ['env.memory:memory']);
    const names = WebAssembly.Module.exports(mod).map((e) => e.name);
    for (const n of ['run_task', 'pack_b', 'reduce_parts', '__heap_base']) assert.ok(names.includes(n), n);
  });

  it('rebuilding kernels.c gives the committed bytes', { skip: haveClang() ? false : 'clang-16/wasm-ld not installed (apt-get install -y clang-16 lld-16)' }, () => {
    const out = mkdtempSync(join(tmpdir(), 'flawscope-wasm-'));
    try {
      execFileSync(process.execPath, [join(dir, 'build.mjs'), '--out', out], { stdio: 'pipe' });
      for (const f of ['kernels.wasm', 'kernels-relaxed.wasm']) {
        const fresh = readFileSync(join(out, f));
        assert.ok(fresh.equals(readFileSync(join(dir, f))),
          `${f} is stale or was built by another clang: run node kernels/native/build.mjs and commit`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
