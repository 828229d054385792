import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOnnxSession } from '../../../src/model-server/runtimes/adapters/onnx-session.js';
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

/**
 * The worked example of src/model-server/runtimes/README.md, as a user runs it: `feature-extractor learn`
 * on the normal images, `train --feature-extractor`, `evaluate` on held-out images.
 */
describe('a feature extractor learned on the device', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-fx-learn-'));
    await generateDataset(join(dir, 'data'), { scene: 'cast', normal: 20, anomalous: 4, testNormal: 12, testAnomalous: 12, seed: 5, size: 160 });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('learns an ONNX graph, trains the built-in model on its features and finds held-out defects', async () => {
    const fx = join(dir, 'fx.onnx');
    const learn = await cli('feature-extractor', 'learn', '--dataset', join(dir, 'data'), '-o', fx, '--longest-side', '160');
    expect(learn.code, learn.stderr).toBe(0);
    // 160 px: 5 scales (as the built-in descriptors' levels: round(log2(160 / 14)) + 1), 8 filters each, 8 texture filters.
    expect(learn.stdout).toMatch(/input 160x160; 5 scales × 8 filters \+ 8 texture filters = 48 channels every 8 px/);
    expect((await cli('feature-extractor', 'learn', '--dataset', join(dir, 'data'), '-o', fx)).stderr).toMatch(/already exists/);

    const train = await cli('train', '--dataset', join(dir, 'data'), '--feature-extractor', fx, '--longest-side', '160', '-o', join(dir, 'model'), '-q');
    expect(train.code, train.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, 'model', 'manifest.json'), 'utf8'));
    expect(manifest.builtin.features).toMatchObject({ kind: 'onnx', file: 'feature-extractor.onnx' });
    expect(manifest.training.memoryBank.dim).toBe(48);

    const evaluated = await cli('evaluate', '-m', join(dir, 'model'), join(dir, 'data'), '--json', join(dir, 'report.json'));
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(report.images).toBe(24);
    // Small surface defects on round castings at any angle (aligned by default): the learned features
    // must rank them and locate them, not merely run.
    expect(report.imageAuroc).toBeGreaterThan(0.9);
    expect(report.metrics.f1).toBeGreaterThan(0.75);
    expect(report.pixelAuroc).toBeGreaterThan(0.95);
  }, 180_000);

  it('keeps the contract train relies on at any size: 1×C×⌈H/8⌉×⌈W/8⌉ from NCHW float32', async () => {
    const fx = join(dir, 'fx.onnx');
    const session = await openOnnxSession(fx);
    try {
      for (const [h, w] of [[160, 160], [171, 256], [97, 130]] as const) {
        const out = await session.run({ input: { dims: [1, 3, h, w], data: new Float32Array(3 * h * w).fill(0.1) } });
        const t = out['features']!;
        expect(t.dims).toEqual([1, 48, Math.ceil(h / 8), Math.ceil(w / 8)]);
        // A flat image: every cell of a scale's map sees the same patch away from the borders.
        const c = t.dims[2]! * t.dims[3]!;
        const centre = (Math.floor(t.dims[2]! / 2) * t.dims[3]!) + Math.floor(t.dims[3]! / 2);
        expect(t.data[centre]).toBeCloseTo(t.data[centre + 1]!, 4);
        expect(Number.isFinite(t.data[c * 47 + centre]!)).toBe(true);
      }
    } finally {
      await session.close();
    }
  }, 180_000);
});
