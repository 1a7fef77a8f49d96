// Runs the ablate CLI as a user would (a child process) and captures what it prints.
import { spawn } from 'node:child_process';
import { ablateCommand } from '../../common/mod.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ablate ...args`; resolves with the exit code and both streams (never rejects on exit code). */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const [cmd, ...base] = ablateCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...base, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, ABLATE_LOG_FORMAT: 'json', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
