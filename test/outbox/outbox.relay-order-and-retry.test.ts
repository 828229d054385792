import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookoutError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { GreengrassIpc } from '../../src/greengrass/adapters/ipc-client.js';
import { SqliteOutbox } from '../../src/outbox/adapters/sqlite-outbox.js';
import { OutboxRelay } from '../../src/publish/relay.js';
import { backoffDelay } from '../../src/core/backoff.js';
import { classify } from '../../src/publish/retry-policy.js';
import { GreengrassPublisher } from '../../src/publish/greengrass-publisher.js';
import { type IpcPeer, startIpcPeer } from '../peers/greengrass-ipc-peer.js';
import { waitFor } from '../helpers/wait-for.js';

const log = createLogger('silent');
let dir: string;
let peer: IpcPeer;
let ipc: GreengrassIpc;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'le-relay-'));
  peer = await startIpcPeer({ socketPath: join(dir, 'ipc.sock') });
  ipc = new GreengrassIpc({ log, env: peer.env(), callTimeoutMs: 1_000, reconnect: { initialMs: 20, maxMs: 100 } });
  await ipc.start();
});
afterAll(async () => {
  await ipc?.stop();
  await peer?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('outbox relay', () => {
  async function drainWithOneRefusal(name: string, retain: boolean): Promise<number[][]> {
    const outbox = new SqliteOutbox({ config: { path: join(dir, `${name}.sqlite`), maxBytes: 1 << 26, maxRows: 10_000, maxAgeMs: 3_600_000, synchronous: 'FULL', expireIntervalMs: 0 }, log });
    await outbox.start();
    for (let i = 0; i < 30; i++) {
      outbox.enqueue({ id: `m${i}`, topic: `lookout/t/cam${i % 2}/${name}`, payload: Buffer.from(`${i}`), priority: 'normal', retain });
    }
    peer.requests.length = 0;
    // The first publish to reach the peer is refused (retryable ServiceError); the rest of its batch is taken.
    peer.failNext('PublishToIoTCore', 'ServiceError', 'spooler busy');
    const relay = new OutboxRelay({ outbox, publisher: new GreengrassPublisher({ ipc, target: 'iot-core' }), log, publishTimeoutMs: 1_000, config: { batchSize: 10, retry: { initialBackoffMs: 10, maxBackoffMs: 50 } } });
    await relay.start();
    await waitFor(() => outbox.stats().depth === 0, 5_000, 'the outbox to drain');
    await relay.stop();
    expect(relay.stats().failedAttempts).toBe(1);
    expect(outbox.stats().delivered).toBe(30);
    await outbox.stop();
    const publishes = peer.requests.filter((r) => r.operation === 'PublishToIoTCore');
    return ['cam0', 'cam1'].map((cam) => publishes.filter((r) => r.topic === `lookout/t/${cam}/${name}`).map((r) => Number(r.payload?.toString())));
  }

  it('after a refused publish sends only the refused message again: what the path acknowledged is not copied', async () => {
    const sent = await drainWithOneRefusal('verdict', false);
    expect(sent.flat()).toHaveLength(31);
    for (const seq of sent) expect(new Set(seq).size).toBe(15);
  });

  it('sends retained messages after a refused one on their topic again, so the newest stays the last retained copy', async () => {
    const sent = await drainWithOneRefusal('status', true);
    expect(sent.flat().length).toBeGreaterThan(31);
    for (const seq of sent) {
      const lastCopies = seq.filter((n, i) => seq.lastIndexOf(n) === i);
      expect(lastCopies).toEqual([...lastCopies].sort((a, b) => a - b));
      expect(new Set(seq).size).toBe(15);
    }
  });

  it('classifies failures by error code, never by message text, and caps the backoff', () => {
    expect(classify(new LookoutError('PUBLISH_FAILED', 'unauthorized!'))).toMatchObject({ action: 'retry' });
    expect(classify(new LookoutError('PUBLISH_UNAUTHORIZED', 'temporary glitch'))).toMatchObject({ action: 'dead-letter' });
    expect(classify(new LookoutError('PAYLOAD_INVALID', 'x'))).toMatchObject({ action: 'dead-letter' });
    expect(classify(new LookoutError('QUEUE_FULL', 'x'))).toMatchObject({ action: 'retry', backoffFactor: 4 });
    expect(classify(new LookoutError('INTERNAL', 'x', { retryable: true }))).toMatchObject({ action: 'retry' });
    const top = () => 1;
    expect(backoffDelay({ initialMs: 100, maxMs: 5_000 }, 1, 1, top)).toBe(100);
    expect(backoffDelay({ initialMs: 100, maxMs: 5_000 }, 4, 1, top)).toBe(800);
    expect(backoffDelay({ initialMs: 100, maxMs: 5_000 }, 30, 1, top)).toBe(5_000);
    expect(backoffDelay({ initialMs: 100, maxMs: 5_000 }, 30, 1, () => 0)).toBe(2_500);
  });
});
