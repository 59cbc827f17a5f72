/**
 * WebGPU on the CPU for tests: Chromium's SwiftShader Vulkan driver (CI installs chromium), loaded
 * by Dawn (npm `webgpu`) when a child process starts with these variables. Chromium ships its own
 * Vulkan loader (libvulkan.so.1) beside the driver, so the system needs no libvulkan1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './cli';

const CHROMIUM_LIB = '/usr/lib/chromium';
const ICD = join(CHROMIUM_LIB, 'vk_swiftshader_icd.json');

/** The environment for a child that should see SwiftShader, or why it cannot. */
export function swiftShaderEnv(): { env: NodeJS.ProcessEnv } | { missing: string } {
  if (!existsSync(ICD)) return { missing: `${ICD} not found (apt-get install chromium)` };
  try {
    createRequire(join(ROOT, 'package.json')).resolve('webgpu');
  } catch {
    return { missing: 'the npm package "webgpu" is not installed (npm install)' };
  }
  const ld = [CHROMIUM_LIB, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return { env: { ...process.env, VK_ICD_FILENAMES: ICD, LD_LIBRARY_PATH: ld } };
}

/**
 * skip option for node:test: locally a machine without SwiftShader skips (saying why); in CI
 * (CI=true) nothing is skipped, so a missing driver fails the test instead of passing unseen.
 */
export function skipWithoutSwiftShader(): string | false {
  const s = swiftShaderEnv();
  return 'missing' in s && process.env.CI !== 'true' ? `no SwiftShader WebGPU here: ${s.missing}` : false;
}

/** Runs a TypeScript helper under tsx in a child with the SwiftShader environment. */
export function runWithSwiftShader(script: string, args: string[], timeoutMs = 180_000): { code: number | null; stdout: string; stderr: string } {
  const s = swiftShaderEnv();
  if ('missing' in s) throw new Error(`SwiftShader WebGPU is required in CI: ${s.missing}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: s.env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
