import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

const root = new URL('../../', import.meta.url).pathname;
const script = join(root, 'test/outbox/fixtures/outbox-agent.ts');
let broker: MosquittoPeer;
let dir: string;

beforeAll(async () => {
  broker = await startMosquitto();
  dir = await mkdtemp(join(tmpdir(), 'le-crash-'));
});
afterAll(async () => {
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Agent {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<void>;
}

type WriteMode = 'enqueueMany' | 'write';

function spawnAgent(path: string, from: number, to: number, mode: WriteMode = 'enqueueMany'): Agent {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, path, String(broker.port), String(from), String(to), mode], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  proc.stdout?.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  proc.stderr?.on('data', (d: Buffer) => lines.push(`stderr: ${d.toString()}`));
  return { proc, lines, exited: new Promise((resolve) => proc.once('exit', () => resolve())) };
}

/** Ids whose enqueue had returned (or write had resolved) when the process printed `durable a b`. */
function durableIds(lines: readonly string[]): string[] {
  return lines.flatMap((line) => {
    const m = /^durable (\d+) (\d+)$/.exec(line);
    if (!m) return [];
    const ids: string[] = [];
    for (let i = Number(m[1]); i < Number(m[2]); i++) ids.push(`v${i}:verdict`);
    return ids;
  });
}

describe('kill -9 of the agent mid-flight', () => {
  it.each<WriteMode>(['enqueueMany', 'write'])('loses nothing (%s): after a restart every message acknowledged as durable reaches the subscriber', async (mode) => {
    const subscriber = await mqtt.connectAsync(broker.url, { clientId: `crash-sub-${mode}` });
    await subscriber.subscribeAsync('lookout/crash/#', { qos: 1 });
    const seen = new Set<string>();
    subscriber.on('message', (_t, payload) => seen.add((JSON.parse(payload.toString()) as { id: string }).id));

    const path = join(dir, `outbox-${mode}.sqlite`);
    const first = spawnAgent(path, 0, 3_000, mode);
    // Kill while writes and deliveries are both under way.
    await waitFor(() => durableIds(first.lines).length >= 600 && seen.size > 0, 20_000, () => `the first agent to get going: ${first.lines.slice(-3).join(' | ')}`);
    first.proc.kill('SIGKILL');
    await first.exited;
    const acknowledged = durableIds(first.lines);
    expect(acknowledged.length).toBeGreaterThanOrEqual(600);

    const second = spawnAgent(path, 0, 0);
    await waitFor(() => second.lines.some((l) => l.startsWith('start depth=')), 20_000, 'the second agent');
    const leftover = Number(second.lines.find((l) => l.startsWith('start depth='))?.split('=')[1]);
    // The crash left work behind (otherwise this test would prove nothing).
    expect(leftover).toBeGreaterThan(0);
    await waitFor(() => acknowledged.every((id) => seen.has(id)), 20_000, () => `all ${acknowledged.length} acknowledged ids (have ${[...acknowledged].filter((id) => seen.has(id)).length}; leftover at restart ${leftover})`);
    await waitFor(() => second.lines.includes('depth=0'), 10_000, 'the outbox to drain');
    second.proc.kill('SIGKILL');
    await second.exited;
    await subscriber.endAsync();
  });
});
