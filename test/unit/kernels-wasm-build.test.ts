// The WebAssembly kernels are committed once, as kernels/native/kernels.wasm (SIMD128) and
// kernels-relaxed.wasm (relaxed SIMD multiply-add): tsx/Node reads them from there and every bundle
// embeds them (kernels/native/embed.mjs). Both must be exactly what native/build.mjs makes from
// kernels.c. Rebuilding needs clang 16+ and wasm-ld (found on PATH, beside clang or through
// CLANG / WASM_LD). Without them the rebuild check is skipped on a developer machine and FAILS when
// CI=true, since CI installs them (.ci/run) and a missing toolchain there is a broken CI.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelWasmBytes } from '../../kernels/wasm-bytes';

const root = join(__dirname, '..', '..');
const dir = join(root, 'kernels', 'native');
const build = join(dir, 'build.mjs');

/** The toolchain build.mjs would use, or why there is none. */
function toolchain(env: NodeJS.ProcessEnv = process.env): { ok: boolean; message: string } {
  const r = spawnSync(process.execPath, [build, '--tools'], { encoding: 'utf8', env });
  return { ok: r.status === 0, message: (r.status === 0 ? r.stdout : r.stderr).trim() };
}

/** Skip reason for the rebuild check: none in CI (there it must run, and fails without clang). */
function rebuildSkip(tools: { ok: boolean; message: string }, ci: string | undefined): string | false {
  if (tools.ok || ci === 'true') return false;
  return tools.message;
}

describe('kernels.wasm', () => {
  it('the loaded bytes are the committed files, two different builds', () => {
    for (const f of ['kernels.wasm', 'kernels-relaxed.wasm'] as const) {
      assert.ok(Buffer.from(kernelWasmBytes(f)).equals(readFileSync(join(dir, f))), f);
    }
    assert.ok(!Buffer.from(kernelWasmBytes('kernels.wasm')).equals(Buffer.from(kernelWasmBytes('kernels-relaxed.wasm'))), 'two different builds');
  });

  it('is valid WebAssembly that uses SIMD and shared memory', () => {
    const mod = new WebAssembly.Module(kernelWasmBytes('kernels.wasm'));
    const imports = WebAssembly.Module.imports(mod);
    assert.deepEqual(imports.map((i) => `${i.module}.${i.name}:${i.kind}`), ['env.memory:memory']);
    const names = WebAssembly.Module.exports(mod).map((e) => e.name);
    for (const n of ['run_task', 'pack_b', 'reduce_parts', '__heap_base']) assert.ok(names.includes(n), n);
  });

  it('a bundle embeds the committed files and reads nothing from disk', () => {
    // The same plugin esbuild.mjs uses, on kernels/wasm-bytes.ts alone.
    const script = `
      import * as esbuild from 'esbuild';
      import { embedKernels } from ${JSON.stringify(join(dir, 'embed.mjs'))};
      const r = await esbuild.build({ entryPoints: [${JSON.stringify(join(root, 'kernels/wasm-bytes.ts'))}], bundle: true,
        write: false, platform: 'node', format: 'cjs', loader: { '.wasm': 'binary' }, plugins: [embedKernels], logLevel: 'error' });
      process.stdout.write(r.outputFiles[0].text);`;
    const code = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 });
    assert.doesNotMatch(code, /readFileSync/, 'the bundle must not read the .wasm from disk');
    const mod = { exports: {} as { kernelWasmBytes?: typeof kernelWasmBytes } };
    new Function('module', 'exports', 'require', code)(mod, mod.exports, () => { throw new Error('the embedded module requires nothing'); });
    for (const f of ['kernels.wasm', 'kernels-relaxed.wasm'] as const) {
      assert.ok(Buffer.from(mod.exports.kernelWasmBytes!(f)).equals(readFileSync(join(dir, f))), `${f} embedded`);
    }
  });

  it('a missing toolchain skips the rebuild check only outside CI', () => {
    const missing = toolchain({ ...process.env, CLANG: join(tmpdir(), 'no-such-clang') });
    assert.equal(missing.ok, false);
    assert.match(missing.message, /CLANG=.*does not run/);
    assert.equal(rebuildSkip(missing, 'true'), false, 'in CI the check runs, and fails');
    assert.equal(typeof rebuildSkip(missing, undefined), 'string');
  });

  const tools = toolchain();
  it('rebuilding kernels.c gives the committed bytes', { skip: rebuildSkip(tools, process.env.CI) }, () => {
    assert.ok(tools.ok, `CI=true but the WASM toolchain is missing: ${tools.message}`);
    const out = mkdtempSync(join(tmpdir(), 'flawscope-wasm-'));
    try {
      execFileSync(process.execPath, [build, '--out', out], { stdio: 'pipe' });
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
