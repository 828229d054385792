import { basename, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import type { Augment } from '../model-server/train/augment.js';
import { openOnnxSession } from '../model-server/runtimes/adapters/onnx-session.js';
import { loadDatasets } from '../model-server/train/load-dataset.js';
import { trainModel } from '../model-server/train/trainer.js';
import { renderProgress, wholeNumber, withDatasetSources } from './dataset-options.js';

interface TrainFlags {
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

/** `lookout-edge train`: builds a built-in model directory from a Lookout for Vision dataset. */
export function trainCommand(): Command {
  const cmd = new Command('train')
    .exitOverride()
    .showHelpAfterError()
    .description('train the built-in anomaly model from one or more Lookout for Vision datasets (>= 20 normal images; anomalies only calibrate)');
  const sources = withDatasetSources(cmd, 'folder layout train/normal, train/anomaly (test/ is ignored), or an exported dataset folder (manifests/train.manifest)');
  return cmd
    .requiredOption('-o, --output <dir>', 'model directory to write (manifest.json + weights.bin)')
    .option('--name <name>', 'model name (default: the output folder name)')
    .option('--model-version <version>', 'model version', '1.0.0')
    .option('--feature-extractor <model.onnx>', 'ONNX feature extractor (NCHW image in, N×C×h×w features out) instead of the built-in descriptors')
    .option('--longest-side <px>', 'working resolution: longest image side in pixels', wholeNumber, 256)
    .option('--max-anomalies <n>', 'use at most n anomalous images for calibration (0: normal images only)', wholeNumber)
    .option('--augment <mode>', 'flip (default without --align): add mirrored normal images to the memory bank; rotate: turned ones too, for parts at any angle; none (default with --align; also when a mirrored part is a defect)', parseAugment)
    .option('--even-light', 'bring every image to one mean grey level before its features (parts under varying light)')
    .option('--align', 'turn and centre each part to one angle before its features (default: when the normal images show parts clear of the border at varying angles)')
    .option('--no-align', 'never turn or centre the images (parts in one pose, surfaces filling the frame)')
    .option('--overwrite', 'replace an existing output directory')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (flags: TrainFlags) => {
      const given = sources(flags.s3Root);
      const dataset = await loadDatasets(given);
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
          (given.length > 1 ? `  ${given.length} datasets merged${dataset.summary.duplicates > 0 ? `, ${dataset.summary.duplicates} duplicate images counted once` : ''}\n` : '') +
          `  ${String(t['normalImages'])} normal, ${String(t['anomalousImages'])} anomalous images; input ${result.manifest.input.width}x${result.manifest.input.height}; threshold by ${String(t['thresholdMethod'])}\n`,
      );
    });
}

function parseAugment(v: string): Augment {
  if (v !== 'none' && v !== 'flip' && v !== 'rotate') throw new InvalidArgumentError('none, flip or rotate');
  return v;
}
