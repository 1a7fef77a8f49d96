// The container images, without a Docker engine: the Dockerfiles are multi-stage, pinned and
// non-root, copy exactly the parts the build compiles, run entrypoints that exist, and the
// trainer's environment (as its Dockerfile sets it) lets `auto` backend selection start.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AUTO_ORDER } from '../../trainer/mod.js';
import { REPO_ROOT } from '../../scripts/generate.js';

interface Dockerfile {
  args: Map<string, string>;
  /** FROM image references with ARG defaults substituted, in order. */
  from: string[];
  copies: string[][];
  /** Instructions of the final stage. */
  final: Array<{ op: string; rest: string }>;
}

function parseDockerfile(name: string): Dockerfile {
  const text = readFileSync(join(REPO_ROOT, name), 'utf8').replace(/\\\n/g, ' ');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const args = new Map<string, string>();
  const from: string[] = [];
  const copies: string[][] = [];
  let final: Dockerfile['final'] = [];
  for (const line of lines) {
    const [op = '', ...restParts] = line.split(/\s+/);
    const rest = restParts.join(' ');
    const upper = op.toUpperCase();
    if (upper === 'ARG' && from.length === 0) {
      const [k, v = ''] = rest.split('=');
      if (k) args.set(k, v);
    } else if (upper === 'FROM') {
      from.push((restParts[0] ?? '').replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? ''));
      final = [];
    } else {
      if (upper === 'COPY' && !rest.startsWith('--from')) copies.push(restParts);
      final.push({ op: upper, rest });
    }
  }
  return { args, from, copies, final };
}

function last(df: Dockerfile, op: string): string | undefined {
  return df.final.filter((i) => i.op === op).pop()?.rest;
}

function envOf(df: Dockerfile): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of df.final.filter((x) => x.op === 'ENV')) {
    for (const m of i.rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  }
  return env;
}

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; engines: { node: string } };
const buildConfig = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };

/** The parts a runtime image needs: what the build compiles, except the developer scripts. */
const PARTS = buildConfig.include.filter((p) => p !== 'scripts').sort();

function versionAtLeast(version: string, min: string): boolean {
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

for (const [file, command] of [
  ['Dockerfile.controller', 'controller'],
  ['Dockerfile.trainer', 'trainer'],
] as const) {
  describe(file, () => {
    const df = parseDockerfile(file);

    test('is multi-stage, with pinned base images and a Node that satisfies package.json engines', () => {
      assert.ok(df.from.length >= 2, 'not multi-stage');
      for (const ref of df.from) {
        const tag = /:([^@/]+)(@sha256:[a-f0-9]{64})?$/.exec(ref)?.[1];
        assert.ok(tag !== undefined && tag !== 'latest', `${ref}: not pinned`);
        // An exact version, or (distroless) a fixed Debian release track; release builds add digests.
        assert.ok(/\d+\.\d+\.\d+/.test(tag) || /-debian\d+:/.test(ref), `${ref}: tag ${tag} names no version`);
      }
      const node = df.from.map((r) => /^node:(\d+\.\d+\.\d+)/.exec(r)?.[1]).find((v) => v !== undefined);
      assert.ok(node, 'no pinned node: base image');
      const min = /(\d+\.\d+(\.\d+)?)/.exec(pkg.engines.node)?.[1] ?? '0';
      assert.ok(versionAtLeast(node, min), `node ${node} does not satisfy engines ${pkg.engines.node}`);
    });

    test('runs as a numeric non-root user', () => {
      const user = last(df, 'USER');
      assert.match(user ?? '', /^[1-9]\d*(:[1-9]\d*)?$/, `USER ${user}: Kubernetes can only check runAsNonRoot against a numeric uid`);
    });

    test('copies every part the build compiles, and .dockerignore lets exactly those in', () => {
      const copied = df.copies.map((c) => c[0]!.replace(/\/$/, '')).filter((p) => !p.includes('.json'));
      assert.deepEqual(copied.sort(), PARTS);
      for (const p of copied) assert.ok(existsSync(join(REPO_ROOT, p)), `${p} does not exist`);
      const ignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      assert.equal(ignore[0], '*', '.dockerignore must start by excluding everything');
      const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, '')).sort();
      assert.deepEqual(allowed, [...PARTS, 'package-lock.json', 'package.json', 'tsconfig.build.json', 'tsconfig.json'].sort());
    });

    test(`its entrypoint is the ablate CLI and its default command is \`ablate ${command}\``, () => {
      const entry = JSON.parse(last(df, 'ENTRYPOINT') ?? 'null') as string[];
      const cmd = JSON.parse(last(df, 'CMD') ?? 'null') as string[];
      assert.deepEqual(cmd, [command]);
      assert.equal(pkg.bin['ablate'], 'dist/cli/main.js');
      const main = entry.find((a) => a.endsWith('.js'));
      if (main !== undefined) {
        assert.equal(main, `/app/${pkg.bin['ablate']}`);
      } else {
        // `ablate` on PATH: the image links it to the bin script, which must be executable by its shebang.
        assert.deepEqual(entry, ['ablate']);
        assert.ok(df.final.some((i) => i.op === 'RUN' && i.rest.includes(`ln -s /app/${pkg.bin['ablate']} /usr/local/bin/ablate`)));
        assert.match(readFileSync(join(REPO_ROOT, 'cli/main.ts'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
      }
      assert.ok(existsSync(join(REPO_ROOT, 'cli', 'main.ts')), 'cli/main.ts is missing');
      assert.ok(existsSync(join(REPO_ROOT, 'cli', 'commands', `${command}.ts`)), `no cli/commands/${command}.ts: the image's default command does not exist`);
    });
  });
}

describe('Dockerfile.trainer GPU runtime', () => {
  const df = parseDockerfile('Dockerfile.trainer');

  test('installs a pinned libvulkan1 and asks the NVIDIA runtime for the Vulkan driver', () => {
    assert.ok(df.final.some((i) => i.op === 'RUN' && /apt-get install[^&]*\blibvulkan1=\d[\w.:~+-]*/.test(i.rest)), 'libvulkan1 is not installed at a pinned version');
    assert.equal(envOf(df)['NVIDIA_DRIVER_CAPABILITIES'], 'compute,utility,graphics');
  });

  test('with the environment the image sets, auto backend selection starts a backend and says what it skipped', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ablate-image-env-'));
    try {
      const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '', ...envOf(df), HOME: home };
      const script = `const m = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'trainer', 'mod.ts')).href)}); const s = await m.selectBackend('auto'); m.releaseBackend(); process.stdout.write(JSON.stringify(s));`;
      const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
      assert.equal(out.code, 0, out.stderr);
      const selection = JSON.parse(out.stdout) as { name: string; fallbacks: Array<{ backend: string; reason: string }> };
      const picked = AUTO_ORDER.findIndex((b) => b === selection.name || (selection.name === 'tensorflow' && b.startsWith('tensorflow')));
      assert.ok(picked >= 0, `picked ${selection.name}, not one of ${AUTO_ORDER.join(', ')}`);
      // Every backend tried before the one picked is reported, with its reason.
      const skipped = selection.fallbacks.map((f) => f.backend);
      for (const b of AUTO_ORDER.slice(0, picked)) assert.ok(skipped.includes(b), `${b} was skipped silently`);
      for (const f of selection.fallbacks) assert.ok(f.reason.length > 0);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
