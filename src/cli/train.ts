import { basename, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { LookoutError } from '../core/errors.js';
import type { Augment } from '../model-server/train/augment.js';
import { openOnnxSession } from '../model-server/runtimes/adapters/onnx-session.js';
import { loadDatasets } from '../model-server/train/load-dataset.js';
import type { TrainProgress } from '../model-server/train/progress.js';
import { trainModel } from '../model-server/train/trainer.js';

interface TrainFlags {
  manifest?: string[];
  dataset?: string[];
  s3Root?: string;
  output: string;
  name?: string;
  modelVersion: string;
  featureExtractor?: string;
  longestSide: number;
  maxAnomalies?: number;
  augment?: Augment;
  evenLight?: boolean;
  align?: boolean;
  overwrite?: boolean;
  quiet?: boolean;
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number');
  return n;
}

/** `lookout-edge train`: builds a built-in model directory from a Lookout for Vision dataset. */
export function trainCommand(): Command {
  // Both flags repeat and mix; the order given is kept (the first copy of a duplicate image wins).
  const order: string[] = [];
  const collect = (v: string, prev: string[] | undefined): string[] => {
    order.push(v);
    return [...(prev ?? []), v];
  };
  return new Command('train')
    .exitOverride()
    .showHelpAfterError()
    .description('train the built-in anomaly model from one or more Lookout for Vision datasets (>= 20 normal images; anomalies only calibrate)')
    .option('--manifest <file>', 'Lookout for Vision / Ground Truth manifest (JSON Lines); repeat to merge datasets', collect)
    .option('--dataset <dir>', 'folder layout train/normal, train/anomaly (test/ is ignored), or an exported dataset folder (manifests/train.manifest); repeat to merge', collect)
    .option('--s3-root <dir>', 'local folder standing in for the bucket of s3:// references (keys relative to it)')
    .requiredOption('-o, --output <dir>', 'model directory to write (manifest.json + weights.bin)')
    .option('--name <name>', 'model name (default: the output folder name)')
    .option('--model-version <version>', 'model version', '1.0.0')
    .option('--feature-extractor <model.onnx>', 'ONNX feature extractor (NCHW image in, N×C×h×w features out) instead of the built-in descriptors')
    .option('--longest-side <px>', 'working resolution: longest image side in pixels', positive, 256)
    .option('--max-anomalies <n>', 'use at most n anomalous images for calibration (0: normal images only)', positive)
    .option('--augment <mode>', 'flip (default without --align): add mirrored normal images to the memory bank; rotate: turned ones too, for parts at any angle; none (default with --align; also when a mirrored part is a defect)', parseAugment)
    .option('--even-light', 'bring every image to one mean grey level before its features (parts under varying light)')
    .option('--align', 'turn and centre each part to one angle before its features (default: when the normal images show parts clear of the border at varying angles)')
    .option('--no-align', 'never turn or centre the images (parts in one pose, surfaces filling the frame)')
    .option('--overwrite', 'replace an existing output directory')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (flags: TrainFlags) => {
      if (order.length === 0) throw new LookoutError('USAGE', 'give at least one --manifest <file> or --dataset <dir>');
      const dataset = await loadDatasets(order.map((path) => ({ path, ...(flags.s3Root ? { s3Root: flags.s3Root } : {}) })));
      let entries = dataset.train;
      if (flags.maxAnomalies !== undefined) {
        let left = flags.maxAnomalies;
        entries = entries.filter((e) => !e.anomalous || left-- > 0);
      }
      const output = resolve(flags.output);
      const started = Date.now();
      const result = await trainModel(entries, {
        name: flags.name ?? basename(output),
        version: flags.modelVersion,
        output,
        longestSide: flags.longestSide,
        ...(flags.augment ? { augment: flags.augment } : {}),
        ...(flags.evenLight ? { evenLight: true } : {}),
        ...(flags.align !== undefined ? { align: flags.align } : {}),
        ...(flags.featureExtractor ? { featureExtractor: resolve(flags.featureExtractor), openOnnxSession } : {}),
        ...(flags.overwrite ? { overwrite: true } : {}),
        ...(flags.quiet ? {} : { onProgress: renderProgress }),
      });
      if (!flags.quiet) process.stderr.write('\n');
      const t = result.manifest['training'] as Record<string, unknown>;
      process.stdout.write(
        `trained ${result.manifest.name} ${result.manifest.version} in ${((Date.now() - started) / 1000).toFixed(1)} s → ${result.dir}\n` +
          (order.length > 1 ? `  ${order.length} datasets merged${dataset.summary.duplicates > 0 ? `, ${dataset.summary.duplicates} duplicate images counted once` : ''}\n` : '') +
          `  ${String(t['normalImages'])} normal, ${String(t['anomalousImages'])} anomalous images; input ${result.manifest.input.width}x${result.manifest.input.height}; threshold by ${String(t['thresholdMethod'])}\n`,
      );
    });
}

function parseAugment(v: string): Augment {
  if (v !== 'none' && v !== 'flip' && v !== 'rotate') throw new InvalidArgumentError('none, flip or rotate');
  return v;
}

function renderProgress(p: TrainProgress): void {
  const pct = p.total > 0 ? Math.round((100 * p.done) / p.total) : 100;
  process.stderr.write(`\r${p.stage.padEnd(9)} ${String(pct).padStart(3)}% (${p.done}/${p.total})${p.message ? ` ${p.message}` : ''}\u001b[K`);
}
