// A trainer child publishing over the Node IPC channel into the parent's in-process transport,
// collected as if it had come over NATS.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Collector } from '../../controller/collector/mod.js';
import { InProcessTransport, IpcTransport, relayIpc } from '../../protocol/mod.js';
import { fakePredictions, uniqueId } from './kit.js';

describe('IPC transport', () => {
  it('refuses to start in a process without an IPC channel', async () => {
    if (typeof process.send === 'function') return;
    await assert.rejects(IpcTransport.create());
  });

  it('relays a child trainer’s run into the parent’s transport, with msgId dedupe answered back', async () => {
    const transport = new InProcessTransport();
    const prefix = `t${uniqueId()}`;
    const job = 'ipc-job';
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/ipc-child.ts', import.meta.url)), prefix, job], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const errors: Error[] = [];
    const stop = relayIpc(child, transport, (e) => errors.push(e));
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    stop();
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as { chunks: number; repeatDuplicate: boolean };
    assert.ok(report.chunks > 1);
    assert.equal(report.repeatDuplicate, true);
    assert.deepEqual(errors, []);

    const collector = await Collector.create({
      transport,
      filter: `${prefix}.local.${job}.>`,
      durable: 'ipc',
      expected: new Map([['full/0', { expectedCount: 60, validationSha256: 'e'.repeat(64) }]]),
    });
    const results = await collector.whenAllComplete(5000);
    assert.equal(results.get('full/0')?.predictionsSha256, fakePredictions(60, 5, 11).sha256);
    assert.equal(collector.counters.progress, 1);
    assert.equal(collector.counters.duplicates, 0);
    await collector.close();
    await transport.close();
  });
});
