// What `auto` counts as a software WebGPU adapter (scorer/node/webgpu.ts describeAdapter): never
// picked by default. Runs without any GPU or driver: the adapters are described, not created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adapterText, describeAdapter } from '../../scorer/node/webgpu';

const adapter = (info: Record<string, unknown>, isFallbackAdapter?: boolean) => ({
  info, ...(isFallbackAdapter !== undefined ? { isFallbackAdapter } : {}),
  features: { has: () => false }, limits: {}, requestDevice: async () => ({}),
});

test('software adapters are fallbacks: the flag, or SwiftShader / lavapipe / llvmpipe by name', () => {
  assert.equal(describeAdapter(adapter({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true })).isFallbackAdapter, true);
  assert.equal(describeAdapter(adapter({ vendor: 'google', architecture: 'swiftshader' })).isFallbackAdapter, true, 'by name when the flag is absent');
  assert.equal(describeAdapter(adapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).isFallbackAdapter, true);
  assert.equal(describeAdapter(adapter({ vendor: 'mesa', device: 'lavapipe' })).isFallbackAdapter, true);
  assert.equal(describeAdapter(adapter({ vendor: 'x' }, true)).isFallbackAdapter, true, "the adapter's own (older) flag");
});

test('hardware adapters are not, and are named in the start reason', () => {
  const nv = describeAdapter(adapter({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3' }));
  assert.equal(nv.isFallbackAdapter, false);
  assert.equal(adapterText(nv), 'nvidia hopper NVIDIA H100 80GB HBM3');
  assert.equal(describeAdapter(adapter({ vendor: 'apple', architecture: 'metal-3' })).isFallbackAdapter, false);
  assert.match(adapterText(describeAdapter(adapter({ vendor: 'google', architecture: 'swiftshader' }))), /a software fallback adapter$/);
});
