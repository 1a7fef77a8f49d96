// `kubectl` for tests: runs the real kubectl 1.35 (see scripts/kube-bin.ts, which also gives the
// helm binary the chart tests use) against a kubeconfig, with a scratch HOME.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { kubectlPath } from '../../scripts/kube-bin.js';

export { helmPath, kubectlPath } from '../../scripts/kube-bin.js';

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `kubectl ...args` against `kubeconfig`; resolves with exit code and output (never rejects on exit code). */
export function kubectl(
  args: string[],
  opts: { kubeconfig: string; input?: string; timeoutMs?: number; cwd?: string },
): Promise<KubectlResult> {
  const bin = kubectlPath();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--kubeconfig', opts.kubeconfig, ...args], {
      cwd: opts.cwd,
      // HOME points at a scratch dir so kubectl's discovery cache never leaks between servers.
      env: { PATH: process.env['PATH'] ?? '', HOME: dirname(opts.kubeconfig), KUBECACHEDIR: join(dirname(opts.kubeconfig), '.kube-cache') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
