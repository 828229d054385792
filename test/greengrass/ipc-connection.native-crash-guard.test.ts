import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'le-ipc-crash-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the flood in its own process: a native crash ends that process, never the test worker. */
function flood(rounds: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/greengrass/fixtures/ipc-hangup-flood.ts', join(dir, 'ipc.sock'), String(rounds)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // aws-crt's "corrupted double-linked list" can leave the process hanging instead of dead
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

describe('the IPC client survives the nucleus hanging up while streams are being written', () => {
  // Before the activation guard in src/greengrass/adapters/ipc-connection.ts this process died in 2 of 3 runs
  // (SIGSEGV in aws_napi_event_stream_client_stream_close, or "corrupted double-linked list").
  it('300 hang-ups under a publish flood: no native crash, and publishing works after the last one', async () => {
    const result = await flood(300);
    expect(result.stderr).not.toMatch(/Stack trace|corrupted|Fatal error|malloc\(\)/);
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
    const [, published, generations] = /^ok (\d+) (\d+)$/m.exec(result.stdout) ?? [];
    expect(Number(published)).toBeGreaterThan(10);
    expect(Number(generations)).toBeGreaterThan(200);
  }, 90_000);
});
