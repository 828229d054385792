import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../../src/model-server/train/synthetic.js';

const run = promisify(execFile);
const root = new URL('../../../', import.meta.url).pathname;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `lookout-edge train` then `lookout-edge evaluate`, as a user runs them. */
describe('train and evaluate commands', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-cli-train-'));
    await generateDataset(join(dir, 'data'), { normal: 20, anomalous: 4, testNormal: 5, testAnomalous: 5, seed: 21, size: 96 });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trains from a folder layout with progress on stderr, then evaluates the test split to CSV and JSON', async () => {
    const t = await cli('train', '--dataset', join(dir, 'data'), '-o', join(dir, 'model'), '--name', 'gears', '--model-version', '3.0.0');
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/trained gears 3\.0\.0 .* 20 normal, 4 anomalous images; input 96x96; threshold by max-f1\+normals/s);
    expect(t.stderr).toMatch(/calibrate 100%/);
    const e = await cli('evaluate', '-m', join(dir, 'model'), join(dir, 'data'), '--csv', join(dir, 'scores.csv'), '--json', join(dir, 'report.json'));
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/precision \d\.\d{3} {2}recall \d\.\d{3} {2}F1 \d\.\d{3}/);
    expect(e.stdout).toMatch(/image AUROC \d\.\d{3}/);
    expect(e.stdout).toMatch(/confusion matrix/);
    const csv = (await readFile(join(dir, 'scores.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('image,label,predicted,anomaly_score,confidence,infer_ms');
    expect(csv).toHaveLength(11);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(report.images).toBe(10);
    expect(report.metrics.confusion.tp + report.metrics.confusion.fn).toBe(5);
    expect(report.imageAuroc).toBeGreaterThan(0.8);
  });

  it('names the bad manifest line and exits 1', async () => {
    const manifest = join(dir, 'bad.manifest');
    await writeFile(manifest, `${JSON.stringify({ 'source-ref': 'data/train/normal/normal-1.png', 'anomaly-label': 0 })}\nnot json\n`);
    const t = await cli('train', '--manifest', manifest, '-o', join(dir, 'never'));
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/bad\.manifest line 2: not valid JSON/);
  });

  it('needs exactly one dataset source', async () => {
    const t = await cli('train', '-o', join(dir, 'never'));
    expect(t.code).toBe(64);
  });
});
