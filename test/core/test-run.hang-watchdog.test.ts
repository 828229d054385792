import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

it('a test worker that hangs fails the run instead of hanging it', () => {
  const started = Date.now();
  const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/fixtures/hang/vitest.config.ts'], {
    cwd: root,
    env: { ...process.env, LOOKOUT_TEST_HANG_MS: '3000', CI: 'true' },
    encoding: 'utf8',
    timeout: 25_000,
  });
  expect(run.signal).toBeNull(); // ended by itself, not by spawnSync's timeout
  expect(run.status).toBe(1);
  expect(run.stdout).toMatch(/hang watchdog: no test started or finished for 3 s; a test worker hangs\. Still running: .*worker-hangs\.hang\.ts/);
  expect(Date.now() - started).toBeLessThan(25_000);
});
