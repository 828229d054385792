import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

const root = new URL('../../', import.meta.url).pathname;
let broker: MosquittoPeer;

beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.close();
});

describe('agent state last will', () => {
  it('the broker turns the retained state to offline when the agent process dies without a goodbye', async () => {
    const states: string[] = [];
    const watcher = await mqtt.connectAsync(broker.url, { clientId: 'watcher' });
    watcher.on('message', (_t, payload) => states.push((JSON.parse(payload.toString()) as { state: string }).state));
    await watcher.subscribeAsync('lookout/will-line/state', { qos: 1 });

    const agent = spawn(process.execPath, ['--import', 'tsx', 'test/publish/fixtures/will-agent.ts', String(broker.port)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    agent.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('online') && states.includes('online'), 20_000, 'the agent online');
    const exited = new Promise((r) => agent.once('exit', r));
    agent.kill('SIGKILL');
    await exited;
    await waitFor(() => states.at(-1) === 'offline', 5_000, () => `the will (states so far: ${states.join(',')})`);

    // Retained: a consumer arriving later sees offline too.
    const late = await mqtt.connectAsync(broker.url, { clientId: 'late' });
    const retained = new Promise<Record<string, unknown>>((resolve) => late.on('message', (_t, p) => resolve(JSON.parse(p.toString()) as Record<string, unknown>)));
    await late.subscribeAsync('lookout/will-line/state', { qos: 1 });
    expect(await retained).toMatchObject({ v: 1, kind: 'state', state: 'offline', thingName: 'will-line' });
    await Promise.all([late.endAsync(), watcher.endAsync()]);
  });
});
