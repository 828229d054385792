import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { isLookoutError } from '../../src/core/errors.js';
import { GreengrassIpc } from '../../src/greengrass/adapters/ipc-client.js';
import { SqliteOutbox } from '../../src/outbox/adapters/sqlite-outbox.js';
import { OutboxRelay } from '../../src/publish/relay.js';
import { GreengrassPublisher } from '../../src/publish/greengrass-publisher.js';
import { type IpcPeer, startIpcPeer } from '../peers/greengrass-ipc-peer.js';
import { waitFor } from '../helpers/wait-for.js';

const log = createLogger('silent');
let dir: string;
let peer: IpcPeer;
let ipc: GreengrassIpc;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'le-ggpub-'));
  peer = await startIpcPeer({ socketPath: join(dir, 'ipc.sock') });
  ipc = new GreengrassIpc({ log, env: peer.env(), callTimeoutMs: 2_000, reconnect: { initialMs: 20, maxMs: 200 } });
  await ipc.start();
});
afterEach(() => {
  peer.requests.length = 0;
});
afterAll(async () => {
  await ipc?.stop();
  await peer?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('Greengrass IPC publisher through the real SDK client', () => {
  it('publishes to IoT Core with QoS 1 (AT_LEAST_ONCE) and to local pub/sub', async () => {
    const cloud = new GreengrassPublisher({ ipc, target: 'iot-core' });
    const local = new GreengrassPublisher({ ipc, target: 'local' });
    await cloud.publish('lookout/t1/cam1/verdict', Buffer.from('{"v":1}'), { qos: 1 });
    await local.publish('lookout/t1/cam1/reject', Buffer.from('{"v":1,"kind":"reject"}'), { qos: 1 });
    const [toCloud, toLocal] = peer.requests;
    expect(toCloud?.operation).toBe('PublishToIoTCore');
    expect(toCloud?.body.qos).toBe('1');
    expect(toCloud?.topic).toBe('lookout/t1/cam1/verdict');
    expect(toCloud?.payload?.toString()).toBe('{"v":1}');
    expect(toLocal?.operation).toBe('PublishToTopic');
    expect(toLocal?.payload?.toString()).toContain('reject');
  });

  it('translates UnauthorizedError to PUBLISH_UNAUTHORIZED (not retryable) and ServiceError to PUBLISH_FAILED (retryable)', async () => {
    const cloud = new GreengrassPublisher({ ipc, target: 'iot-core' });
    peer.failNext('PublishToIoTCore', 'UnauthorizedError', 'no policy for topic');
    const denied = await cloud.publish('lookout/t1/x', Buffer.from('a'), { qos: 1 }).catch((e: unknown) => e);
    expect(isLookoutError(denied, 'PUBLISH_UNAUTHORIZED')).toBe(true);
    expect((denied as { retryable: boolean }).retryable).toBe(false);
    peer.failNext('PublishToIoTCore', 'ServiceError', 'spooler full');
    const full = await cloud.publish('lookout/t1/x', Buffer.from('a'), { qos: 1 }).catch((e: unknown) => e);
    expect(isLookoutError(full, 'PUBLISH_FAILED')).toBe(true);
    expect((full as { retryable: boolean }).retryable).toBe(true);
  });

  it('refuses a payload of 128 KiB before it reaches the nucleus', async () => {
    const cloud = new GreengrassPublisher({ ipc, target: 'iot-core' });
    const err = await cloud.publish('lookout/t1/x', Buffer.alloc(128 * 1024), { qos: 1 }).catch((e: unknown) => e);
    expect(isLookoutError(err, 'PAYLOAD_INVALID')).toBe(true);
    expect(peer.requests).toHaveLength(0);
  });

  it('recreates the client after a disconnection and the relay delivers everything', async () => {
    const outbox = new SqliteOutbox({
      config: { path: join(dir, 'outbox.sqlite'), maxBytes: 1 << 26, maxRows: 10_000, maxAgeMs: 3_600_000, synchronous: 'FULL', expireIntervalMs: 0 },
      log,
    });
    await outbox.start();
    const publisher = new GreengrassPublisher({ ipc, target: 'iot-core' });
    const relay = new OutboxRelay({ outbox, publisher, log, publishTimeoutMs: 2_000, config: { batchSize: 20, retry: { initialBackoffMs: 10, maxBackoffMs: 100 } } });
    await relay.start();
    const generation = ipc.generation;

    for (let i = 0; i < 50; i++) outbox.enqueue({ id: `v${i}:verdict`, topic: 'lookout/t1/cam1/verdict', payload: Buffer.from(`{"id":"v${i}"}`), priority: 'normal' });
    await waitFor(() => peer.requests.length >= 10, 5_000, 'first publishes');
    peer.disconnectAll();
    peer.disconnectOnNext('PublishToIoTCore');
    for (let i = 50; i < 100; i++) outbox.enqueue({ id: `v${i}:verdict`, topic: 'lookout/t1/cam1/verdict', payload: Buffer.from(`{"id":"v${i}"}`), priority: 'normal' });

    await waitFor(() => outbox.stats().depth === 0, 10_000, () => `outbox to drain (depth ${outbox.stats().depth})`);
    expect(ipc.generation).toBeGreaterThanOrEqual(generation + 1);
    expect(ipc.isConnected()).toBe(true);
    const delivered = new Set(peer.requests.filter((r) => r.operation === 'PublishToIoTCore').map((r) => r.payload?.toString()));
    for (let i = 0; i < 100; i++) expect(delivered.has(`{"id":"v${i}"}`)).toBe(true);
    await relay.stop();
    await outbox.stop();
  });

  it('moves a message the nucleus refuses for good to dead letters and goes on', async () => {
    const outbox = new SqliteOutbox({
      config: { path: join(dir, 'dead.sqlite'), maxBytes: 1 << 26, maxRows: 10_000, maxAgeMs: 3_600_000, synchronous: 'FULL', expireIntervalMs: 0 },
      log,
    });
    await outbox.start();
    const relay = new OutboxRelay({ outbox, publisher: new GreengrassPublisher({ ipc, target: 'iot-core' }), log, publishTimeoutMs: 2_000, config: { batchSize: 1, retry: { initialBackoffMs: 10, maxBackoffMs: 100 } } });
    peer.failNext('PublishToIoTCore', 'UnauthorizedError');
    outbox.enqueue({ id: 'a', topic: 'forbidden/topic', payload: Buffer.from('1'), priority: 'normal' });
    outbox.enqueue({ id: 'b', topic: 'lookout/t1/ok', payload: Buffer.from('2'), priority: 'normal' });
    await relay.start();
    await waitFor(() => outbox.stats().depth === 0, 5_000, 'outbox to drain');
    expect(outbox.stats().deadLettered).toBe(1);
    expect(outbox.stats().delivered).toBe(1);
    await relay.stop();
    await outbox.stop();
  });

  it('streams configuration updates (re-subscribing after a reconnection) and reports UpdateState', async () => {
    peer.setConfiguration({ decide: { threshold: 0.5 } });
    const changes: string[][] = [];
    const off = ipc.subscribeToConfigurationUpdate((keyPath) => changes.push(keyPath));
    // the stream says "the root may have changed" once it is open: updates made before it are not replayed
    await waitFor(() => changes.length === 1, 2_000, 'the resync once the stream is open');
    expect(changes[0]).toEqual([]);
    expect(peer.pushConfigurationUpdate(['decide', 'threshold'])).toBe(1);
    await waitFor(() => changes.length === 2, 2_000, 'the first update');
    expect(changes[1]).toEqual(['decide', 'threshold']);
    expect(await ipc.getConfiguration(['decide'])).toEqual({ threshold: 0.5 });

    const before = ipc.generation;
    peer.disconnectAll();
    await waitFor(() => ipc.generation > before && ipc.isConnected(), 5_000, 'a new client');
    await waitFor(() => changes.length === 3, 2_000, 'the resync on the new client');
    expect(changes[2]).toEqual([]);
    await waitFor(() => peer.pushConfigurationUpdate(['status']) === 1, 2_000, 'the subscription on the new client');
    await waitFor(() => changes.some((c) => c[0] === 'status'), 2_000, 'the update after reconnection');
    off();

    await ipc.updateState('RUNNING');
    const update = peer.requests.findLast((r) => r.operation === 'UpdateState');
    expect(update?.body.state).toBe('RUNNING');
  });

  it('survives the nucleus hanging up with publishes in flight, again and again (aws-crt stream-close crash guard)', async () => {
    for (let round = 0; round < 6; round++) {
      await waitFor(() => ipc.isConnected(), 5_000, 'a connection');
      const inFlight = Array.from({ length: 20 }, (_, i) => ipc.publishToIoTCore(`lookout/t1/r${round}`, Buffer.from(`${i}`), { qos: 1 }).then(() => 'ok', (e: { code: string }) => e.code));
      if (round % 2 === 0) peer.disconnectAll();
      else peer.disconnectOnNext('PublishToIoTCore');
      const outcomes = await Promise.all(inFlight);
      expect(outcomes.every((o) => o === 'ok' || o === 'PUBLISH_FAILED')).toBe(true);
    }
    // The last hang-up may not have been noticed yet: retry as the relay would (PUBLISH_FAILED is retryable).
    await waitFor(
      () => ipc.publishToIoTCore('lookout/t1/after', Buffer.from('still alive'), { qos: 1 }).then(() => true, () => false),
      5_000,
      'a publish after the last hang-up',
    );
    expect(peer.requests.at(-1)?.payload?.toString()).toBe('still alive');
  });
});
