// Chooses the TF.js backend. `auto` tries the fastest first and falls back, logging each reason
// once; a backend asked for by name either works or is an error (a silent fallback from a GPU to
// plain JS would turn a 1-hour run into a 1-week one without anyone noticing).
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AblateError, logger } from '../common/mod.js';

export const BACKENDS = ['auto', 'webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKENDS)[number];
/** The order `auto` tries. */
export const AUTO_ORDER: readonly Exclude<BackendRequest, 'auto'>[] = ['webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendSelection {
  /** The TF.js backend now active (`webgpu`, `tensorflow`, `wasm`, `cpu`). */
  name: string;
  /** Backends `auto` tried and skipped, with why. */
  fallbacks: { backend: string; reason: string }[];
}

/** A backend asked for by name could not start. */
export class BackendUnavailableError extends AblateError {
  readonly backend: string;
  constructor(message: string, opts: { backend: string; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.backend = opts.backend;
  }
}

const require = createRequire(import.meta.url);

/** Dawn's GPU object, held only while the webgpu backend is in use (it keeps node alive). */
let dawnGpu: unknown;

async function initWebgpu(): Promise<void> {
  const { create, globals } = await import('webgpu');
  const gpu = create([]);
  const adapter = await gpu.requestAdapter();
  if (adapter === null) throw new Error('no WebGPU adapter (Dawn found no Vulkan device: is libvulkan1 with a GPU driver installed?)');
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  dawnGpu = gpu;
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") returned false');
}

async function initNode(pkg: '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu', name: string): Promise<void> {
  // Optional dependencies: absent unless libtensorflow could be installed (see ecosystem.md §3.1).
  await import(pkg);
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`tf.setBackend("tensorflow") returned false after importing ${pkg} (${name})`);
}

async function initWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // The .wasm binaries ship beside the package's entry; in Node there is no page URL to resolve them from.
  wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  shareIdentityOnWasm();
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
}

/**
 * The wasm backend's `Identity` copies its input into a new heap buffer, and the engine runs
 * `Identity` on every tensor it saves for the backward pass (~370 copies per DeBERTa training
 * step). TF.js tensors are immutable (a variable's `assign` swaps its buffer, never writes into
 * it), so the copy can share the buffer instead, as the cpu backend's `Identity` does.
 */
function shareIdentityOnWasm(): void {
  if (tf.getKernel(tf.Identity, 'wasm') !== undefined) tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel({
    kernelName: tf.Identity,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs['x']!;
      (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}

async function initCpu(): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") returned false');
}

async function start(backend: Exclude<BackendRequest, 'auto'>): Promise<string> {
  switch (backend) {
    case 'webgpu':
      await initWebgpu();
      return 'webgpu';
    case 'tensorflow-gpu':
      await initNode('@tensorflow/tfjs-node-gpu', backend);
      return 'tensorflow';
    case 'tensorflow':
      await initNode('@tensorflow/tfjs-node', backend);
      return 'tensorflow';
    case 'wasm':
      await initWasm();
      return 'wasm';
    case 'cpu':
      await initCpu();
      return 'cpu';
  }
}

const loggedFallbacks = new Set<string>();

/**
 * Activates a TF.js backend. `auto` tries webgpu, tensorflow-gpu, tensorflow, wasm, cpu in
 * that order and reports what it skipped; a named backend that fails throws
 * `BackendUnavailableError`.
 */
export async function selectBackend(requested: BackendRequest): Promise<BackendSelection> {
  if (!(BACKENDS as readonly string[]).includes(requested)) {
    throw new BackendUnavailableError(`backend '${String(requested)}' is not one of ${BACKENDS.join(', ')}`, { backend: String(requested) });
  }
  if (requested !== 'auto') {
    try {
      return { name: await start(requested), fallbacks: [] };
    } catch (cause) {
      throw new BackendUnavailableError(`backend '${requested}' is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { backend: requested, cause });
    }
  }
  const fallbacks: BackendSelection['fallbacks'] = [];
  for (const backend of AUTO_ORDER) {
    try {
      return { name: await start(backend), fallbacks };
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      fallbacks.push({ backend, reason });
      if (!loggedFallbacks.has(backend)) {
        loggedFallbacks.add(backend);
        logger().info({ backend, reason }, 'TF.js backend unavailable, trying the next');
      }
    }
  }
  throw new BackendUnavailableError('no TF.js backend could start', { backend: 'auto' });
}

/**
 * Drops the reference to Dawn's GPU object so the process can exit (Dawn keeps node alive while
 * it is reachable). Call after the last webgpu computation; a no-op for other backends.
 */
export function releaseBackend(): void {
  if (dawnGpu === undefined) return;
  dawnGpu = undefined;
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav !== undefined) delete nav.gpu;
}
