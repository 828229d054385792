import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { isLookoutError } from '../../../src/core/errors.js';
import { promoteModel } from '../../../src/model-server/train/promote.js';
import { generateDataset } from '../../../src/model-server/train/synthetic.js';

const run = promisify(execFile);
const root = new URL('../../../', import.meta.url).pathname;

/** A model directory the noop runtime loads: every image normal. */
async function noopModel(dir: string, version: string, extra: Record<string, unknown> = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({ formatVersion: 1, runtime: 'noop', name: 'gears', version, input: { width: 64, height: 64 }, threshold: 0.5, classes: [], ...extra }));
  await writeFile(join(dir, 'weights.bin'), `weights of ${version}`);
  return dir;
}

describe('model promote', () => {
  let dir: string;
  const p = (...parts: string[]) => join(dir, ...parts);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-promote-'));
    await mkdir(p('models'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts a copy in place, keeps exactly one previous version and leaves no temp directory', async () => {
    for (const v of ['1', '2', '3']) await noopModel(p(`cand-${v}`), `${v}.0.0`);
    const first = await promoteModel({ candidate: p('cand-1'), target: p('models', 'gears') });
    expect(first.previous).toBeNull();
    await promoteModel({ candidate: p('cand-2'), target: p('models', 'gears') });
    const third = await promoteModel({ candidate: p('cand-3'), target: p('models', 'gears') });
    expect(third.previous).toMatchObject({ dir: p('models', 'gears.previous'), version: '2.0.0' });
    expect(await readFile(p('models', 'gears', 'weights.bin'), 'utf8')).toBe('weights of 3.0.0');
    expect(await readFile(p('models', 'gears.previous', 'weights.bin'), 'utf8')).toBe('weights of 2.0.0');
    expect((await readdir(p('models'))).sort()).toEqual(['gears', 'gears.previous']);
    // The candidate is untouched.
    expect(await readFile(p('cand-3', 'weights.bin'), 'utf8')).toBe('weights of 3.0.0');
  });

  it('rolls back by promoting <component>.previous: the two generations swap', async () => {
    await promoteModel({ candidate: p('models', 'gears.previous'), target: p('models', 'gears') });
    expect(await readFile(p('models', 'gears', 'weights.bin'), 'utf8')).toBe('weights of 2.0.0');
    expect(await readFile(p('models', 'gears.previous', 'weights.bin'), 'utf8')).toBe('weights of 3.0.0');
    await promoteModel({ candidate: p('models', 'gears.previous'), target: p('models', 'gears') });
    expect(await readFile(p('models', 'gears', 'weights.bin'), 'utf8')).toBe('weights of 3.0.0');
    expect((await readdir(p('models'))).sort()).toEqual(['gears', 'gears.previous']);
  });

  it('refuses an invalid manifest, an unknown runtime, a missing manifest, and leaves the live model alone', async () => {
    await noopModel(p('bad-threshold'), '9.0.0', { threshold: 'high' });
    await noopModel(p('bad-runtime'), '9.0.0', { runtime: 'quantum' });
    await mkdir(p('empty'));
    for (const candidate of ['bad-threshold', 'bad-runtime', 'empty']) {
      const err = await promoteModel({ candidate: p(candidate), target: p('models', 'gears') }).then(() => null, (e: unknown) => e);
      expect(isLookoutError(err) && err.code).toBe('MODEL_MANIFEST_INVALID');
    }
    expect(await runCli(['model', 'promote', p('bad-threshold'), '--to', p('models', 'gears')])).toBe(1);
    expect(JSON.parse(await readFile(p('models', 'gears', 'manifest.json'), 'utf8')).version).toBe('3.0.0');
    expect((await readdir(p('models'))).sort()).toEqual(['gears', 'gears.previous']);
  });

  it('refuses a target inside the candidate or a models directory that does not exist (usage, exit 64)', async () => {
    expect(await runCli(['model', 'promote', p('cand-1'), '--to', p('cand-1', 'nested')])).toBe(64);
    expect(await runCli(['model', 'promote', p('cand-1'), '--to', p('nowhere', 'gears')])).toBe(64);
  });
});

describe('evaluate with several models', () => {
  let dir: string;
  const p = (...parts: string[]) => join(dir, ...parts);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-compare-'));
    await generateDataset(p('data'), { normal: 1, anomalous: 1, testNormal: 3, testAnomalous: 2, seed: 3, size: 64 });
    await noopModel(p('old'), '1.0.0');
    await noopModel(p('new'), '2.0.0');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints both models side by side with the deltas (the --compare form), and writes both to JSON and CSV', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'evaluate', p('data'), '-m', p('new'), '--compare', p('old'), '--json', p('c.json'), '--csv', p('c.csv'), '--require-better'], { cwd: root });
    expect(stdout).toMatch(/2 models on the same 5 test images \(2 anomalous, 3 normal\)/);
    expect(stdout).toMatch(/baseline: gears 1\.0\.0 \(noop\)/);
    expect(stdout).toMatch(/candidate: gears 2\.0\.0 \(noop\)/);
    expect(stdout).toMatch(/^precision +\d\.\d{3} +\d\.\d{3} +[+-]\d\.\d{3}$/m);
    expect(stdout).toMatch(/^F1 +0\.000 +0\.000 +\+0\.000$/m);
    expect(stdout).toMatch(/^missed anomaly +2 +2$/m);
    expect(stdout).toMatch(/^true normal +3 +3$/m);
    const json = JSON.parse(await readFile(p('c.json'), 'utf8')) as { models: { dir: string; report: { images: number } }[]; deltas: { f1: number }; candidateNotWorse: boolean };
    expect(json.models.map((m) => m.dir)).toEqual([p('old'), p('new')]);
    expect(json.models.map((m) => m.report.images)).toEqual([5, 5]);
    expect(json).toMatchObject({ deltas: { f1: 0 }, candidateNotWorse: true });
    const csv = (await readFile(p('c.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('model,version,image,label,predicted,anomaly_score,confidence,infer_ms');
    expect(csv).toHaveLength(1 + 10);
  });

  it('--require-better needs two models', async () => {
    expect(await runCli(['evaluate', p('data'), '-m', p('new'), '--require-better'])).toBe(64);
    expect(await runCli(['evaluate', p('data')])).toBe(64);
  });
});
