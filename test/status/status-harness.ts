import { PassThrough } from 'node:stream';
import { statusSchema } from '../../src/config/slices/status.js';
import type { StatusConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/core/log.js';
import { createPromMetrics } from '../../src/status/adapters/prom-metrics.js';
import { createStatusServer, type StatusServer, type StatusServerDeps } from '../../src/status/status-server.js';
import { FakeInspector } from '../helpers/fake-inspector.js';

export interface Harness {
  readonly inspector: FakeInspector;
  readonly server: StatusServer;
  readonly url: string;
  readonly config: StatusConfig;
  /** Every log line written so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A real status server on an ephemeral port in front of an in-memory inspector. */
export async function startHarness(overrides: Record<string, unknown> = {}, cameras: string[] = ['cam1', 'cam2'], mounts: StatusServerDeps['mounts'] = []): Promise<Harness> {
  const lines: string[] = [];
  const sink = new PassThrough();
  let partial = '';
  sink.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  const log = createLogger('debug', sink);
  const config = statusSchema.parse({ port: 0, ...overrides });
  const inspector = new FakeInspector(cameras);
  const server = createStatusServer({ config, control: inspector, events: inspector.events, log, metrics: createPromMetrics(), mounts });
  await server.start();
  const { port } = server.address();
  return {
    inspector,
    server,
    config,
    url: `http://127.0.0.1:${port}`,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    close: () => server.stop('test done'),
  };
}

export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}
