import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LookoutError } from '../../src/core/errors.js';
import { superviseChild, type SupervisedChildOptions } from '../../src/sources/core/supervised-child.js';
import { waitFor } from '../helpers/wait-for.js';

const dir = mkdtempSync(join(tmpdir(), 'supervised-child-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real node child running `script`; the test's options override the defaults. */
function node(script: string, o: Partial<SupervisedChildOptions> = {}): { done: Promise<void>; pids: number[]; abort: () => void; write: (t: string) => boolean } {
  const controller = new AbortController();
  const pids: number[] = [];
  const child = superviseChild({
    command: process.execPath,
    args: ['-e', script],
    name: 'the test child',
    stdin: 'ignore',
    stallTimeoutMs: 5_000,
    firstGraceMs: 0,
    firstStallMessage: 'nothing at all',
    stopping: { killGraceMs: 300 },
    signal: controller.signal,
    onStdout: (chunk, life) => {
      life.alive();
      for (const m of chunk.toString('utf8').matchAll(/pid=(\d+)/g)) pids.push(Number(m[1]));
    },
    ...o,
  });
  return { done: child.done, pids, abort: () => controller.abort(), write: child.write };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function rejection(p: Promise<void>): Promise<LookoutError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LookoutError);
  return err as LookoutError;
}

describe('superviseChild', () => {
  it('SIGKILLs a child that ignores SIGTERM once the grace has passed, and resolves on abort', async () => {
    const marks = join(dir, 'term-ignored');
    const script = `process.on('SIGTERM', () => require('fs').appendFileSync(${JSON.stringify(marks)}, 'TERM\\n'));
      process.stdout.write('pid=' + process.pid + '\\n'); setInterval(() => process.stdout.write('.'), 20);`;
    const c = node(script, { stopping: { killGraceMs: 400 } });
    await waitFor(() => c.pids.length === 1, 5_000, 'the child to start');
    const stopAt = Date.now();
    c.abort();
    await c.done;
    expect(Date.now() - stopAt).toBeGreaterThanOrEqual(390);
    expect(readFileSync(marks, 'utf8')).toBe('TERM\n');
    expect(isRunning(c.pids[0] ?? 0)).toBe(false);
  });

  it('reports a child that stops writing as SOURCE_STALLED, and stops it', async () => {
    const script = `process.stdout.write('pid=' + process.pid + '\\n'); setInterval(() => undefined, 1000);`;
    const c = node(script, { stallTimeoutMs: 200 });
    const err = await rejection(c.done);
    expect(err.code).toBe('SOURCE_STALLED');
    expect(err.message).toBe('no frame for 200 ms');
    expect(isRunning(c.pids[0] ?? 0)).toBe(false);
  });

  it('names the first-record stall with its own message after the first grace', async () => {
    const started = Date.now();
    const c = node('setInterval(() => undefined, 1000);', { stallTimeoutMs: 100, firstGraceMs: 300, firstStallMessage: 'no answer within 400 ms' });
    const err = await rejection(c.done);
    expect(err.code).toBe('SOURCE_STALLED');
    expect(err.message).toBe('no answer within 400 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('turns an exit of its own into SOURCE_UNAVAILABLE with the redacted stderr tail', async () => {
    const c = node(`console.error('opening rtsp://user:secret@cam/1'); console.error('boom'); process.exit(3);`, {
      redact: (t) => t.replaceAll('secret', '***'),
    });
    const err = await rejection(c.done);
    expect(err.code).toBe('SOURCE_UNAVAILABLE');
    expect(err.message).toBe('the test child exited (3): boom');
    expect(err.details?.stderr).toBe('opening rtsp://user:***@cam/1\nboom');
  });

  it('prefers the error the child reported over its exit', async () => {
    const reported = new LookoutError('SOURCE_SETTINGS_INVALID', 'bad exposure');
    const err = await rejection(node('process.exit(1)', { reportedError: () => reported }).done);
    expect(err).toBe(reported);
  });

  it('stops the child when the stdout handler throws: SOURCE_PROTOCOL, or the LookoutError thrown', async () => {
    const script = `setInterval(() => process.stdout.write('x'), 20);`;
    const plain = await rejection(
      node(script, {
        onStdout: () => {
          throw new Error('garbled');
        },
      }).done,
    );
    expect([plain.code, plain.message]).toEqual(['SOURCE_PROTOCOL', 'garbled']);
    const typed = new LookoutError('FRAME_TOO_LARGE', 'too big');
    const thrown = await rejection(
      node(script, {
        onStdout: () => {
          throw typed;
        },
      }).done,
    );
    expect(thrown).toBe(typed);
  });

  it('ends stdin first when asked, so a child that leaves on end of input needs no signal', async () => {
    // SIGTERM would come only after 60 s: the test's own timeout fails first if stdin is not ended
    const script = `process.stdin.on('end', () => process.exit(0)); process.stdin.resume(); process.stdout.write('pid=' + process.pid + '\\n');`;
    const c = node(script, { stdin: 'pipe', stopping: { stdinGraceMs: 60_000, killGraceMs: 1_000 } });
    await waitFor(() => c.pids.length === 1, 5_000, 'the child to start');
    expect(c.write('trigger\n')).toBe(true);
    c.abort();
    await c.done;
    expect(isRunning(c.pids[0] ?? 0)).toBe(false);
    expect(c.write('late\n')).toBe(false);
  });

  it('rejects a command that cannot be run as SOURCE_UNAVAILABLE', async () => {
    const err = await rejection(node('', { command: join(dir, 'no-such-binary') }).done);
    expect(err.code).toBe('SOURCE_UNAVAILABLE');
    expect(err.message).toMatch(/^the test child failed to run: .*ENOENT/);
  });
});
