import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLookoutError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { GreengrassIpc } from '../../src/greengrass/adapters/ipc-client.js';
import { GreengrassPublisher } from '../../src/publish/greengrass-publisher.js';
import { waitFor } from '../helpers/wait-for.js';
import { type IpcPeer, startIpcPeer } from '../peers/greengrass-ipc-peer.js';

const log = createLogger('silent');
let dir: string;
let peer: IpcPeer;
let ipc: GreengrassIpc;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'le-ggsub-'));
  peer = await startIpcPeer({ socketPath: join(dir, 'ipc.sock') });
  ipc = new GreengrassIpc({ log, env: peer.env(), callTimeoutMs: 2_000, reconnect: { initialMs: 20, maxMs: 200 } });
  await ipc.start();
});
afterAll(async () => {
  await ipc?.stop();
  await peer?.stop();
  await rm(dir, { recursive: true, force: true });
});

const opened = (op: string) => peer.requests.filter((r) => r.operation === op).length;

/** SubscribeToIoTCore and SubscribeToTopic through the real SDK client, against the protocol-level nucleus. */
describe('Greengrass IPC subscriptions', () => {
  it('receives IoT Core messages on a wildcard filter and local binary and JSON messages, until unsubscribed', async () => {
    const cloud = new GreengrassPublisher({ ipc, target: 'iot-core' });
    const local = new GreengrassPublisher({ ipc, target: 'local' });
    const got: string[] = [];
    const offCloud = await cloud.subscribe('lookout/t1/+/trigger', (topic, payload) => got.push(`cloud ${topic} ${payload.toString()}`));
    const offLocal = await local.subscribe('lookout/t1/cam2/trigger', (topic, payload) => got.push(`local ${topic} ${payload.toString()}`));
    expect(peer.requests.find((r) => r.operation === 'SubscribeToIoTCore')?.body).toMatchObject({ topicName: 'lookout/t1/+/trigger', qos: '1' });

    expect(peer.deliverFromIoTCore('lookout/t1/cam1/trigger', Buffer.from('{"partId":"C-1"}'))).toBe(1);
    expect(peer.deliverFromIoTCore('lookout/t1/cam1/verdict', Buffer.from('not for us'))).toBe(0);
    expect(peer.publishLocal('lookout/t1/cam2/trigger', Buffer.from('{"partId":"L-1"}'))).toBe(1);
    expect(peer.publishLocal('lookout/t1/cam2/trigger', { partId: 'L-2' })).toBe(1);
    await waitFor(() => got.length === 3, 5_000, 'three messages');
    // each subscription is its own stream: no order between them
    expect(got.sort()).toEqual(['cloud lookout/t1/cam1/trigger {"partId":"C-1"}', 'local lookout/t1/cam2/trigger {"partId":"L-1"}', 'local lookout/t1/cam2/trigger {"partId":"L-2"}']);

    await offCloud();
    await offLocal();
    await waitFor(() => peer.deliverFromIoTCore('lookout/t1/cam1/trigger', Buffer.from('x')) === 0, 2_000, 'the IoT Core stream closed');
    await waitFor(() => peer.publishLocal('lookout/t1/cam2/trigger', Buffer.from('x')) === 0, 2_000, 'the local stream closed');
  });

  it('refuses a subscription the nucleus does not authorize with SUBSCRIBE_FAILED, not retryable', async () => {
    peer.failNext('SubscribeToTopic', 'UnauthorizedError', 'no pubsub policy for lookout/t1/cam3/trigger');
    const err = await ipc.subscribe('local', 'lookout/t1/cam3/trigger', () => undefined).catch((e: unknown) => e);
    expect(isLookoutError(err, 'SUBSCRIBE_FAILED')).toBe(true);
    expect((err as { retryable: boolean; message: string }).retryable).toBe(false);
    expect((err as Error).message).toMatch(/accessControl/);
    // refused subscriptions are not kept: nothing is re-opened for it later
    expect(peer.publishLocal('lookout/t1/cam3/trigger', Buffer.from('x'))).toBe(0);
  });

  it('opens each subscription again, exactly once, on every new connection, including one made while disconnected', async () => {
    const got: string[] = [];
    const off = await ipc.subscribe('iot-core', 'lookout/t1/command/request', (_t, p) => got.push(p.toString()));
    for (let round = 0; round < 3; round++) {
      const before = ipc.generation;
      const subscribes = opened('SubscribeToIoTCore');
      peer.disconnectAll();
      await waitFor(() => ipc.generation > before && ipc.isConnected(), 5_000, 'a new client');
      await waitFor(() => opened('SubscribeToIoTCore') > subscribes, 2_000, 'the subscription on the new client');
      await waitFor(() => peer.deliverFromIoTCore('lookout/t1/command/request', Buffer.from(`r${round}`)) === 1, 2_000, 'one open stream');
    }
    await waitFor(() => got.length === 3, 5_000, 'a message per round');
    expect(got).toEqual(['r0', 'r1', 'r2']);

    // made while the nucleus is away: opened as soon as the connection is back
    const late: string[] = [];
    const before = ipc.generation;
    peer.disconnectAll();
    await waitFor(() => !ipc.isConnected() || ipc.generation > before, 2_000, 'the disconnection noticed');
    const offLate = await ipc.subscribe('local', 'lookout/t1/cam9/trigger', (_t, p) => late.push(p.toString()));
    await waitFor(() => ipc.isConnected() && peer.publishLocal('lookout/t1/cam9/trigger', Buffer.from('late')) === 1, 5_000, 'the late subscription');
    await waitFor(() => late.length === 1, 2_000, 'the late message');
    await offLate();
    await off();
  });

  it('survives the nucleus hanging up again and again with subscription streams open', async () => {
    const got: string[] = [];
    const off = await ipc.subscribe('local', 'lookout/t1/cam5/trigger', (_t, p) => got.push(p.toString()));
    for (let round = 0; round < 5; round++) {
      await waitFor(() => ipc.isConnected(), 5_000, 'a connection');
      peer.disconnectAll();
    }
    await waitFor(() => ipc.isConnected() && peer.publishLocal('lookout/t1/cam5/trigger', Buffer.from('alive')) === 1, 5_000, 'the stream after the last hang-up');
    await waitFor(() => got.includes('alive'), 2_000, 'the message');
    await off();
  });
});
