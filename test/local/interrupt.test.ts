// Stopping `ablate run`: the first Ctrl-C or SIGTERM stops the trainers gently (SIGTERM, they
// checkpoint and exit); a second signal, of either kind, kills them at once and exits with
// 128 + that signal's number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ablateCommand } from '../../common/mod.js';
import { interruptHandler } from '../../controller/local/study.js';
import { tinyStudy } from '../support/tiny-study.js';

function fakeStudy(): { kills: string[]; exits: number[]; notes: string[]; handler: ReturnType<typeof interruptHandler> } {
  const kills: string[] = [];
  const exits: number[] = [];
  const notes: string[] = [];
  const children = new Set(['a', 'b'].map((name) => ({ kill: (s?: NodeJS.Signals | number): boolean => (kills.push(`${name}:${String(s)}`), true) })));
  const handler = interruptHandler({ children, note: (m) => notes.push(m), exit: (code) => exits.push(code) });
  return { kills, exits, notes, handler };
}

for (const [first, second, code] of [
  ['SIGTERM', 'SIGINT', 130],
  ['SIGINT', 'SIGTERM', 143],
  ['SIGINT', 'SIGINT', 130],
  ['SIGTERM', 'SIGTERM', 143],
] as const) {
  test(`${first} stops the trainers gently; ${second} after it kills them at once and exits ${code}`, () => {
    const s = fakeStudy();
    s.handler.onSignal(first);
    assert.deepEqual(s.kills, ['a:SIGTERM', 'b:SIGTERM']);
    assert.deepEqual(s.exits, [], 'the first signal lets the study wind down');
    assert.equal(s.handler.signal(), first);
    s.handler.onSignal(second);
    assert.deepEqual(s.kills.slice(2), ['a:SIGKILL', 'b:SIGKILL']);
    assert.deepEqual(s.exits, [code]);
    assert.match(s.notes.at(-1)!, new RegExp(`^${second} after ${first}: killing 2 trainer\\(s\\) now`));
  });
}

/** A process that has exited (gone, or a zombie nobody reaped yet). */
const ended = (pid: number): boolean => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return true;
  }
};

test('ablate run: SIGTERM, then Ctrl-C sent to it alone, kills the trainer and exits 130 at once', { timeout: 300_000 }, async () => {
  const study = await tinyStudy({ name: 'twice', ablations: [{ name: 'long', training: { epochs: 20 } }], execution: { parallelism: 1 } });
  const [cmd, ...base] = ablateCommand();
  const child = spawn(cmd, [...base, 'run', study.jobFile, '--out', study.outDir, '--in-process'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ABLATE_LOG_FORMAT: 'json' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  let done = false;
  const exited = new Promise<number | null>((r) => child.on('close', (code) => ((done = true), r(code))));
  const ckpts = join(study.outDir, 'work', 'long-seed0', 'checkpoints');
  const deadline = Date.now() + 240_000;
  while (!(existsSync(ckpts) && readdirSync(ckpts).some((n) => n.startsWith('ckpt-')))) {
    assert.ok(!done && Date.now() < deadline, `the trainer never checkpointed:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // Its `ablate trainer` children (from source, tsx may have an esbuild child running too).
  const trainers = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(child.pid)], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => / trainer --run-config /.test(l))
    .map((l) => Number.parseInt(l, 10));
  assert.equal(trainers.length, 1, 'one trainer running');
  // Both to `ablate run` alone (as `kill` does); the Ctrl-C as soon as it says it is stopping
  // gently (it then waits for the trainer's checkpoint and exit, and half a second for its report).
  let again = false;
  child.stderr.on('data', () => {
    if (again || !stderr.includes('"event":"interrupt"')) return;
    again = true;
    process.kill(child.pid!, 'SIGINT');
  });
  process.kill(child.pid!, 'SIGTERM');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /SIGINT after SIGTERM: killing 1 trainer\(s\) now/);
  // SIGKILL is sent before `ablate run` exits; give the kernel a moment to finish the trainer off.
  for (let i = 0; i < 100 && !trainers.every(ended); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(trainers.every(ended), 'the trainer was killed');
});
