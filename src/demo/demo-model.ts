import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import type { ModelManifest } from '../model-server/runtime.js';
import { readManifest as readDatasetManifest } from '../model-server/train/manifest-reader.js';
import { generateDataset } from '../model-server/train/synthetic.js';
import { trainModel } from '../model-server/train/trainer.js';

export const DEMO_COMPONENT = 'lookout-edge-demo-model';

export interface DemoModel {
  readonly component: string;
  readonly dir: string;
  readonly input: { readonly width: number; readonly height: number };
  /** One folder per demo camera to replay: the generated test split, normal and defective parts mixed. */
  readonly replayDirs: readonly string[];
  readonly manifest: ModelManifest;
}

/**
 * The demo's model: synthetic part images (drawn parts with scratches, cracks, missing pieces, stains)
 * generated once, and the built-in model trained on them. Reused when already there.
 */
export async function prepareDemoModel(deps: { dir: string; log: Logger; say: (line: string) => void }): Promise<DemoModel> {
  const modelDir = join(deps.dir, 'model');
  const datasetDir = join(deps.dir, 'dataset');
  const replayDirs = [join(deps.dir, 'replay', 'a'), join(deps.dir, 'replay', 'b')];
  const existing = await readJson(join(modelDir, 'manifest.json'));
  if (existing) {
    deps.say(`Model                                ${modelDir} (trained earlier; delete it to train again)`);
    return { component: DEMO_COMPONENT, dir: modelDir, input: existing.input, replayDirs, manifest: existing };
  }

  deps.say('Generating synthetic part images…');
  const data = await generateDataset(datasetDir, { normal: 30, anomalous: 8, testNormal: 16, testAnomalous: 16, seed: 20251031, size: 256 });
  // Two cameras, each replaying its own mix of normal and defective parts (alternate files of the test split).
  for (const d of replayDirs) await mkdir(d, { recursive: true });
  let n = 0;
  for (const label of ['normal', 'anomaly']) {
    const folder = join(datasetDir, 'test', label);
    for (const name of (await readdir(folder)).filter((f) => f.endsWith('.png')).sort()) {
      await copyFile(join(folder, name), join(replayDirs[n++ % replayDirs.length]!, `${label}-${name}`));
    }
  }

  const entries = await readDatasetManifest(data.trainManifest);
  const normals = entries.filter((e) => !e.anomalous).length;
  deps.say(`Training the built-in model on ${normals} normal images (+${entries.length - normals} anomalous ones for calibration)…`);
  const started = Date.now();
  let lastStage = '';
  const { manifest } = await trainModel(entries, {
    name: 'demo-parts',
    version: '1.0.0',
    output: modelDir,
    overwrite: true,
    onProgress: (p) => {
      if (p.stage !== lastStage) {
        lastStage = p.stage;
        deps.log.info({ stage: 'train', progress: p }, 'training');
      }
    },
  });
  deps.say(`Model trained in ${((Date.now() - started) / 1000).toFixed(1)} s       ${modelDir}`);
  return { component: DEMO_COMPONENT, dir: modelDir, input: manifest.input, replayDirs, manifest };
}

async function readJson(path: string): Promise<ModelManifest | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ModelManifest;
  } catch {
    return undefined;
  }
}
