import { unlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelServerConfig } from '../../src/config/slices/model-server.js';
import { MAX_MESSAGE_BYTES } from '../../src/edge-agent/adapters/edge-agent-proto.js';
import { createModelServerMetrics } from '../../src/model-server/adapters/prom-metrics.js';
import { grpc, image, rawClient, removeDir, startServer, statusOf, waitFor, type RawClient, type Script, type TestServer } from '../peers/edge-agent-peer.js';

/**
 * Memory bounds (issue 17, item 5): reading and queued bytes under modelServer.queueBytes, calls per client
 * connection under modelServer.connectionCalls. Real server on a Unix socket, real clients, real /dev/shm segments.
 */

const S = grpc.status;
const BIG = 4096 * 4096 * 3;
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function serve(models: Parameters<typeof startServer>[0], config: Partial<ModelServerConfig>): Promise<TestServer> {
  const agent = await startServer(models, { config });
  cleanup.push(() => removeDir(agent.dir), () => agent.stop());
  const c = client(agent);
  await waitFor(async () => (await c.call<{ models: { status: number }[] }>('ListModels', {})).models.every((m) => m.status === 2));
  return agent;
}

/** A client on a connection of its own, as one in another process is (grpc-js shares connections within a process). */
function client(agent: TestServer): RawClient {
  const c = rawClient(agent.address, { keepCase: true, longs: Number, defaults: true, oneofs: true }, { 'grpc.use_local_subchannel_pool': 1 });
  cleanup.push(() => c.close());
  return c;
}

/** A gate a scripted model waits on: inferences stay running until the test opens it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A 4096x4096 bitmap in a real shared-memory segment (the server reads it only once admitted). */
async function bigSegment(): Promise<{ name: string; size: number; offset: number }> {
  const base = `le-test-bounds-${process.pid}-${Date.now()}`;
  await writeFile(`/dev/shm/${base}`, new Uint8Array(BIG), { mode: 0o600 });
  cleanup.push(() => unlink(`/dev/shm/${base}`).catch(() => undefined));
  return { name: `/${base}`, size: BIG, offset: 0 };
}

const small = (c: RawClient, component: string) =>
  c.call<{ detect_anomaly_result: { is_anomalous: boolean } }>('DetectAnomalies', { model_component: component, bitmap: { width: 64, height: 64, byte_data: image(64, 64).pixels } }, 60_000);

describe('byte admission', () => {
  it('lets a flood of large images wait, unread, in FIFO order for bytes under queueBytes, refuses it past queueSize with RESOURCE_EXHAUSTED, drops a waiter whose deadline passes, and gives every reservation back', async () => {
    const held = gate();
    let started = 0;
    const script: Script = { gate: held.promise, onInfer: () => started++ };
    // Room for two of the largest requests (read at once), three inference slots, five calls may wait.
    const agent = await serve([{ component: 'big', script }], { queueBytes: 2 * MAX_MESSAGE_BYTES, concurrency: 3, queueSize: 5 });
    const handle = await bigSegment();
    const detect = (c: RawClient, deadlineMs = 60_000) =>
      c.call('DetectAnomalies', { model_component: 'big', bitmap: { width: 4096, height: 4096, shared_memory_handle: handle } }, deadlineMs).then(
        () => ({ code: S.OK, details: '' }),
        (err: grpc.ServiceError) => ({ code: err.code, details: err.details }),
      );
    const flooders = [client(agent), client(agent)];
    const flood = Array.from({ length: 6 }, (_, i) => detect(flooders[i % 2] as RawClient));
    // Two were read (each keeps its bitmap's bytes) and run; four wait, unread.
    await waitFor(() => agent.server.stats().readsWaiting === 4 && started === 2, 30_000, 'two running, four waiting');
    expect(agent.server.stats()).toMatchObject({ reservedBytes: 2 * BIG, readingBytes: 0, overBudget: 0 });

    const late = client(agent);
    const impatient = await detect(late, 1_000);
    expect(impatient.code).toBe(S.DEADLINE_EXCEEDED);
    await waitFor(() => agent.server.stats().readsWaiting === 4, 10_000, 'the impatient caller left the queue');
    const last = detect(late);
    await waitFor(() => agent.server.stats().readsWaiting === 5);
    const refused = await detect(late);
    expect(refused.code).toBe(S.RESOURCE_EXHAUSTED);
    expect(refused.details).toMatch(/5 calls already wait for modelServer\.queueBytes = 102760448/);
    expect(agent.server.stats()).toMatchObject({ reservedBytes: 2 * BIG, readingBytes: 0, overBudget: 1 });

    held.open();
    const outcomes = await Promise.all([...flood, last]);
    expect(outcomes.map((o) => o.code)).toEqual(Array(7).fill(S.OK));
    expect(started).toBe(7);
    expect(agent.server.stats()).toMatchObject({ reservedBytes: 0, readingBytes: 0, readsWaiting: 0, overBudget: 1, active: 0, waiting: 0 });
    expect(agent.server.stats().peakBytes).toBeLessThanOrEqual(2 * MAX_MESSAGE_BYTES);

    const { body } = await createModelServerMetrics({ defaultMetrics: false }).render({ listening: true, models: [], waiting: [], queue: agent.server.stats() });
    expect(body).toMatch(/^lookout_edge_model_server_admission_over_budget_total 1$/m);
    expect(body).toMatch(/^lookout_edge_model_server_admission_reserved_bytes 0$/m);
    expect(body).toMatch(/^lookout_edge_model_server_admission_reading_bytes 0$/m);
    expect(body).toMatch(/^lookout_edge_model_server_admission_reads_waiting 0$/m);
  }, 60_000);

  it('gives the reservation back whatever the outcome: runtime error, full queue, success, and at once when a queued caller gives up', async () => {
    const held = gate();
    let started = 0;
    const agent = await serve(
      [
        { component: 'held', script: { gate: held.promise, onInfer: () => started++ } },
        { component: 'broken', script: { inferError: new Error('boom') } },
        { component: 'ok' },
      ],
      { concurrency: 1, queueSize: 2 },
    );
    const ONE = 64 * 64 * 3;
    const c = client(agent);
    expect(await statusOf(small(c, 'broken'))).toBe(S.INTERNAL);
    expect(agent.server.stats().reservedBytes).toBe(0);

    const running = small(c, 'held');
    await waitFor(() => started === 1);
    const queued = small(c, 'ok');
    const impatient = client(agent);
    const gaveUp = impatient.call('DetectAnomalies', { model_component: 'ok', bitmap: { width: 64, height: 64, byte_data: image(64, 64).pixels } }, 500);
    await waitFor(() => agent.server.stats().waiting === 2);
    expect(await statusOf(small(c, 'ok'))).toBe(S.RESOURCE_EXHAUSTED); // the count bound
    expect(agent.server.stats().reservedBytes).toBe(3 * ONE);

    expect(await statusOf(gaveUp)).toBe(S.DEADLINE_EXCEEDED);
    // The abandoned call leaves the queue and gives its bytes back while the model is still busy.
    await waitFor(() => agent.server.stats().abandoned === 1);
    expect(agent.server.stats()).toMatchObject({ reservedBytes: 2 * ONE, waiting: 1, skipped: 1 });

    held.open();
    await Promise.all([running, queued]);
    expect(agent.server.stats()).toMatchObject({ reservedBytes: 0, overBudget: 0, rejected: 1, skipped: 1 });
    expect(await statusOf(small(c, 'ok'))).toBe(S.OK);
    expect(agent.server.stats().reservedBytes).toBe(0);
  }, 30_000);
});

describe('calls per client connection', () => {
  it('lets one connection have at most connectionCalls calls in the server; other connections are still served', async () => {
    const held = gate();
    let started = 0;
    const agent = await serve([{ component: 'held', script: { gate: held.promise, onInfer: () => started++ } }, { component: 'free' }], { concurrency: 8, connectionCalls: 4 });
    const greedy = client(agent);
    const calls = Array.from({ length: 6 }, () => small(greedy, 'held'));
    await waitFor(() => started >= 4);
    // A call on another connection goes through while the greedy one's fifth and sixth wait at their client.
    expect(await statusOf(small(client(agent), 'free'))).toBe(S.OK);
    expect(started).toBe(4);
    expect(agent.server.stats().active).toBe(4);
    held.open();
    expect((await Promise.all(calls)).every((r) => r.detect_anomaly_result.is_anomalous === false)).toBe(true);
    expect(started).toBe(6);
  }, 30_000);
});

/**
 * An HTTP/2 client that ignores the server's SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2): raw frames
 * on the socket, header blocks as HPACK literals without indexing. Opens `streams` DetectAnomalies calls
 * without bodies once the server's SETTINGS arrived; resolves with whether the server sent GOAWAY and closed
 * the connection (a connection that stays open is given up after 2 s).
 */
async function greedyRawClient(socket: string, streams: number): Promise<{ goaway: boolean; closed: boolean }> {
  const frame = (type: number, flags: number, stream: number, payload: Buffer): Buffer => {
    const head = Buffer.alloc(9);
    head.writeUIntBE(payload.length, 0, 3);
    head[3] = type;
    head[4] = flags;
    head.writeUInt32BE(stream, 5);
    return Buffer.concat([head, payload]);
  };
  const literal = (name: string, value: string) => Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
  const headers = Buffer.concat(
    [[':method', 'POST'], [':scheme', 'http'], [':path', '/AWS.LookoutVision.EdgeAgent/DetectAnomalies'], [':authority', 'localhost'], ['content-type', 'application/grpc'], ['te', 'trailers']].map(([n, v]) => literal(n!, v!)),
  );
  const sock = connect(socket);
  let goaway = false;
  let sent = false;
  let pending = Buffer.alloc(0);
  sock.on('data', (data: Buffer) => {
    pending = Buffer.concat([pending, data]);
    while (pending.length >= 9 && pending.length >= 9 + pending.readUIntBE(0, 3)) {
      const type = pending[3];
      if (type === 7) goaway = true;
      if (type === 4 && !sent) {
        sent = true;
        sock.write(frame(4, 1, 0, Buffer.alloc(0))); // SETTINGS ACK
        for (let i = 0; i < streams; i++) sock.write(frame(1, 4, 1 + 2 * i, headers)); // HEADERS, END_HEADERS, no body yet
      }
      pending = pending.subarray(9 + pending.readUIntBE(0, 3));
    }
  });
  sock.on('error', () => undefined);
  sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(4, 0, 0, Buffer.alloc(0))]));
  const closed = await new Promise<boolean>((resolve) => {
    sock.once('close', () => resolve(true));
    setTimeout(() => resolve(false), 2_000);
  });
  sock.destroy();
  return { goaway, closed };
}

describe('a client that ignores the stream limit', () => {
  it('loses its connection (GOAWAY) once it opens more than connectionCalls calls; others are served', async () => {
    const agent = await serve([{ component: 'm' }], { connectionCalls: 4 });
    expect(await greedyRawClient(agent.socket, 5)).toEqual({ goaway: true, closed: true });
    expect(await statusOf(small(client(agent), 'm'))).toBe(S.OK);
  }, 30_000);
});
