import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/model-server/train/load-dataset.js';
import { generateDataset } from '../../src/model-server/train/synthetic.js';
import { trainModel } from '../../src/model-server/train/trainer.js';

/**
 * `lookout-edge model verify <dir>`, as a model component's Install step runs it: a model that would not
 * serve fails with EX_CONFIG (78), so the deployment fails and the nucleus rolls it back.
 */

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;

async function verify(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'model', 'verify', dir], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('lookout-edge model verify', () => {
  let dir: string;
  const p = (...parts: string[]) => join(dir, ...parts);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-verify-'));
    await generateDataset(p('data'), { normal: 20, anomalous: 3, testNormal: 0, testAnomalous: 0, seed: 5, size: 64 });
    const ds = await loadDataset({ path: p('data', 'train.manifest') });
    await trainModel(ds.train, { name: 'gears', version: '1.2.0', output: p('good') });
  }, 60_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a built-in model trained on generated images, runs one inference, prints one line and exits 0', async () => {
    const r = await verify(p('good'));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/^model ok: gears 1\.2\.0 \(builtin, 64x64, \d+ classes\) at .*\/good: loaded in \d+ ms, blank image in \d+ ms \(score \d\.\d{3}, (normal|anomalous)\)\n$/);
  });

  it('exits 78 with a clear message for corrupt weights, a bad manifest, or no model at all', async () => {
    await cp(p('good'), p('corrupt'), { recursive: true });
    await writeFile(p('corrupt', 'weights.bin'), Buffer.from('not the weights'));
    const corrupt = await verify(p('corrupt'));
    expect(corrupt.code).toBe(78);
    expect(corrupt.stdout).toBe('');
    expect(corrupt.stderr).toMatch(/^lookout-edge: model .*corrupt is not usable \(RUNTIME_LOAD_FAILED\): .*does not load with the builtin runtime/);

    await cp(p('good'), p('unknown-runtime'), { recursive: true });
    await writeFile(p('unknown-runtime', 'manifest.json'), JSON.stringify({ formatVersion: 1, runtime: 'quantum', name: 'x', version: '1', input: { width: 64, height: 64 }, threshold: 0.5 }));
    expect(await verify(p('unknown-runtime'))).toMatchObject({ code: 78, stderr: expect.stringMatching(/\(MODEL_MANIFEST_INVALID\): .*unknown runtime "quantum"/) });

    expect(await verify(p('nowhere'))).toMatchObject({ code: 78, stderr: expect.stringMatching(/manifest\.json is missing/) });
  });
});
