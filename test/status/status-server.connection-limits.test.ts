import { request } from 'node:http';
import { type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { statusSchema } from '../../src/config/slices/status.js';
import { type Harness, startHarness, waitFor } from './status-harness.js';

interface Probe {
  readonly socket: Socket;
  closed: boolean;
}

/** Opens a raw TCP connection from `localAddress` (any 127/8 address works on Linux) and keeps it idle. */
async function open(h: Harness, localAddress = '127.0.0.1'): Promise<Probe> {
  const { port } = h.server.address();
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  const probe: Probe = { socket, closed: false };
  socket.on('error', () => undefined);
  socket.on('close', () => (probe.closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return probe;
}

function getStatus(h: Harness, localAddress: string): Promise<number> {
  const { port } = h.server.address();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/status', localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('status server connection limits', () => {
  let h: Harness;
  const probes: Probe[] = [];
  afterEach(async () => {
    for (const p of probes.splice(0)) p.socket.destroy();
    await h.close();
  });

  it('closes the 33rd idle connection from one address at once; another address is still served', async () => {
    h = await startHarness({ headersTimeoutMs: 5_000 });
    for (let i = 0; i < 40; i++) probes.push(await open(h));
    await waitFor(() => probes.filter((p) => p.closed).length === 8, '8 refused connections');
    expect(probes.slice(0, 32).every((p) => !p.closed)).toBe(true);
    expect(await getStatus(h, '127.0.0.2')).toBe(200);
    // once some close, the address may connect again
    for (const p of probes.slice(0, 4)) p.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(await getStatus(h, '127.0.0.1')).toBe(200);
    const refused = await waitFor(() => h.logs().find((l) => l.msg === 'connections refused'), 'refusal log');
    expect(refused).toMatchObject({ reason: 'per-address', address: '127.0.0.1' });
  });

  it('caps connections in total across addresses', async () => {
    h = await startHarness({ maxConnections: 6, maxConnectionsPerAddress: 3, maxEventClients: 2, headersTimeoutMs: 5_000 });
    for (const from of ['127.0.0.1', '127.0.0.2']) for (let i = 0; i < 3; i++) probes.push(await open(h, from));
    const extra = await open(h, '127.0.0.3');
    probes.push(extra);
    await waitFor(() => extra.closed, 'the 7th connection closed');
    expect(probes.slice(0, 6).every((p) => !p.closed)).toBe(true);
  });

  it('closes an idle keep-alive connection after keepAliveTimeoutMs', async () => {
    h = await startHarness({ keepAliveTimeoutMs: 200 });
    const probe = await open(h);
    probes.push(probe);
    const answered = new Promise<string>((resolve) => probe.socket.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
    probe.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${h.server.address().port}\r\n\r\n`);
    expect(await answered).toMatch(/^HTTP\/1\.1 200 /);
    const started = Date.now();
    await waitFor(() => probe.closed, 'idle connection closed', 3_000);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('has short defaults and bounded limits', () => {
    const defaults = statusSchema.parse({});
    expect(defaults).toMatchObject({ maxConnections: 256, maxConnectionsPerAddress: 32, headersTimeoutMs: 5_000, requestTimeoutMs: 15_000, keepAliveTimeoutMs: 2_000 });
    expect(statusSchema.safeParse({ maxConnections: 100_000 }).success).toBe(false);
    expect(statusSchema.safeParse({ headersTimeoutMs: 600_000 }).success).toBe(false);
    expect(statusSchema.safeParse({ maxConnections: 8, maxConnectionsPerAddress: 16 }).error?.issues[0]?.path).toEqual(['maxConnectionsPerAddress']);
  });
});
