import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ShmPool } from '../../src/inference/shm-pool.js';

/** Segments live in /dev/shm only while needed: bounded, grown in place, removed on close and on exit. */

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;

describe('ShmPool', () => {
  it('hands each concurrent lease its own segment, reuses released ones, grows in place and removes all on close', async () => {
    const pool = new ShmPool({ maxSegments: 2, prefix: 'le-pool-test' });
    const a = await pool.acquire(10_000);
    const b = await pool.acquire(10_000);
    expect(a && b && a.segment.name !== b.segment.name).toBe(true);
    expect(await pool.acquire(10)).toBeUndefined();
    a?.release();
    const c = await pool.acquire(5 * 1024 * 1024);
    expect(c?.segment.name).toBe(a?.segment.name);
    expect((await stat(c?.segment.path as string)).size).toBeGreaterThanOrEqual(5 * 1024 * 1024);
    expect(c?.segment.name).toMatch(/^\/le-pool-test-\d+-[0-9a-f]{32}$/);
    await c?.segment.write(new Uint8Array([1, 2, 3]), 4096);
    expect([...(await (c?.segment.read(3, 4096) as Promise<Buffer>))]).toEqual([1, 2, 3]);
    await expect(c?.segment.read(10, 5 * 1024 * 1024 + 1)).rejects.toMatchObject({ code: 'INFERENCE_FAILED' });
    c?.release();
    await pool.close();
    b?.release(); // released after close: removed at once
    expect((await readdir('/dev/shm')).filter((f) => f.startsWith(`le-pool-test-${process.pid}-`))).toEqual([]);
    await expect(pool.acquire(10)).rejects.toMatchObject({ code: 'SHM_UNAVAILABLE' });
  });

  it('removes its segments when the process exits without stop()', async () => {
    const script = `const { ShmPool } = await import('./src/inference/shm-pool.ts');
      const lease = await new ShmPool({ prefix: 'le-exit-test' }).acquire(4096);
      console.log(lease.segment.path);
      process.exit(0);`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root });
    const path = stdout.trim();
    expect(path).toMatch(/^\/dev\/shm\/le-exit-test-\d+-[0-9a-f]{32}$/);
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });

  it('probes: a missing directory is unavailable', () => {
    expect(ShmPool.probe('/dev/shm')).toBe(true);
    expect(ShmPool.probe('/nonexistent/shm')).toBe(false);
  });
});
