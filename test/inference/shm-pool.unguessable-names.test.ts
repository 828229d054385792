import { stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SHM_DIR } from '../../src/edge-agent/shm-names.js';
import { ShmPool } from '../../src/inference/shm-pool.js';
import { checkHandle } from '../../src/model-server/shm-access.js';

/**
 * Another local user must not be able to create our next segment before we do (and so make us fail, or have
 * the model server write a mask into their file): names carry 128 random bits; segments are created
 * exclusively and readable and writable by their owner only.
 */

describe('ShmPool segment names', () => {
  it('carry 128 random bits after the pid, differ between pools, and are created 0600', async () => {
    const pools = [new ShmPool({ prefix: 'le-name-test' }), new ShmPool({ prefix: 'le-name-test' })];
    const leases = await Promise.all(pools.map((p) => p.acquire(4096)));
    try {
      const names = leases.map((l) => l?.segment.name ?? '');
      for (const name of names) expect(name).toMatch(new RegExp(`^/le-name-test-${process.pid}-[0-9a-f]{32}$`));
      expect(new Set(names.map((n) => n.slice(-32))).size).toBe(2);
      for (const lease of leases) expect((await stat(lease?.segment.path as string)).mode & 0o777).toBe(0o600);
      // The model server reads a name the client made as the same file (shm-names.ts: one naming rule for both).
      for (const lease of leases) expect(checkHandle({ name: lease!.segment.name, offset: 0, size: 1 }, DEFAULT_SHM_DIR, 'probe').path).toBe(lease!.segment.path);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
      for (const lease of leases) lease?.release(); // released after close: removed at once
    }
  });
});
