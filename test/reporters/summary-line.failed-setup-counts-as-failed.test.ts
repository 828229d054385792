import { spawn } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = new URL('../..', import.meta.url).pathname;

/** Runs the real vitest on one fixture file with our summary reporter; resolves with its stdout and exit code. */
async function runVitest(dir: string): Promise<{ out: string; code: number | null }> {
  const child = spawn(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.resume();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { out, code };
}

describe('the summary line CI reads', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-reporter-'));
    await symlink(join(repo, 'node_modules'), join(dir, 'node_modules'));
    await writeFile(join(dir, 'vitest.config.mjs'), `export default { test: { include: ['*.test.mjs'], reporters: [${JSON.stringify(join(repo, 'test/summary-reporter.ts'))}] } };\n`);
    await writeFile(
      join(dir, 'fixture.test.mjs'),
      [
        "import { beforeAll, describe, it } from 'vitest';",
        "describe('set-up fails', () => { beforeAll(() => { throw new Error('no peer'); }); it('a', () => {}); it('b', () => {}); });",
        "describe('fine', () => { it('c', () => {}); it.skip('d', () => {}); });",
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('counts the tests of a suite whose beforeAll threw as failed, not skipped', async () => {
    const { out, code } = await runVitest(dir);
    expect(code).toBe(1);
    expect(out).toContain('1 passed, 2 failed, 1 skipped');
  }, 60_000);
});
