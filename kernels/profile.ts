// Per-kernel wall-time profile for a backend: wraps every kernel registered for it with a timer.
// Used by the training benchmark to report what remains after the fast kernels.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';

export interface KernelProfile {
  /** Total ms and calls per kernel name since start(). */
  table(): { kernel: string; ms: number; calls: number }[];
  reset(): void;
  /** Restores the unwrapped kernels. */
  stop(): void;
}

/** `byShape`: one row per kernel and input shapes (e.g. which conv layer is slow). */
export function profileKernels(backendName: string, byShape = false): KernelProfile {
  const originals: KernelConfig[] = tf.getKernelsForBackend(backendName).map((k) => ({ ...k }));
  const acc = new Map<string, { ms: number; calls: number }>();
  let depth = 0;
  for (const k of originals) {
    const f = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, backendName);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        // Only the outermost kernel counts (kernels may call other kernels directly).
        if (depth > 0) return f(args);
        depth++;
        const t0 = performance.now();
        try {
          return f(args);
        } finally {
          depth--;
          const key = byShape
            ? `${k.kernelName} ${Object.values(args.inputs).map((t) => (t ? `[${t.shape.join(',')}]` : '-')).join(' ')}`
            : k.kernelName;
          const e = acc.get(key) ?? { ms: 0, calls: 0 };
          e.ms += performance.now() - t0;
          e.calls++;
          acc.set(key, e);
        }
      },
    });
  }
  return {
    table: () => [...acc.entries()].map(([kernel, v]) => ({ kernel, ...v })).sort((a, b) => b.ms - a.ms),
    reset: () => acc.clear(),
    stop: () => {
      for (const k of originals) {
        tf.unregisterKernel(k.kernelName, backendName);
        tf.registerKernel(k);
      }
    },
  };
}
