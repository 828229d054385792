import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { LookoutError } from '../core/errors.js';
import { openOnnxSession } from '../model-server/runtimes/adapters/onnx-session.js';
import { learnFeatureExtractor } from '../model-server/train/learn-extractor.js';
import { loadDatasets } from '../model-server/train/load-dataset.js';
import type { TrainProgress } from '../model-server/train/progress.js';

interface LearnFlags {
  output: string;
  s3Root?: string;
  longestSide: number;
  levels?: number;
  filters?: number;
  textureFilters?: number;
  seed: number;
  overwrite?: boolean;
  quiet?: boolean;
}

function whole(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number');
  return n;
}

/**
 * `lookout-edge feature-extractor learn`: learns a small convolutional feature extractor from a dataset's
 * normal images and writes it as ONNX, for `train --feature-extractor` (src/model-server/runtimes/README.md).
 */
export function featureExtractorCommand(): Command {
  const cmd = new Command('feature-extractor').description('feature extractors for the built-in model (train --feature-extractor)');
  const order: string[] = [];
  const collect = (v: string, prev: string[] | undefined): string[] => {
    order.push(v);
    return [...(prev ?? []), v];
  };
  cmd
    .command('learn')
    .exitOverride()
    .showHelpAfterError()
    .description('learn a PCANet-style convolutional feature extractor from the normal training images (no downloads) and write it as an ONNX graph')
    .option('--manifest <file>', 'Lookout for Vision / Ground Truth manifest (JSON Lines); repeat to merge datasets', collect)
    .option('--dataset <dir>', 'folder layout train/normal (train/anomaly is not used), or an exported dataset folder; repeat to merge', collect)
    .option('--s3-root <dir>', 'local folder standing in for the bucket of s3:// references (keys relative to it)')
    .requiredOption('-o, --output <file>', 'the ONNX graph to write (e.g. fx.onnx)')
    .option('--longest-side <px>', 'working resolution: longest image side in pixels (give train the same)', whole, 256)
    .option('--levels <n>', 'scales, each twice as coarse as the one before (default: the coarsest 7×7 patch covers about half the image; 5 at 256 px)', whole)
    .option('--filters <n>', 'principal-component filters per scale (default 8)', whole)
    .option('--texture-filters <n>', 'filters of the texture stage on the finest scale\'s energies (default 8; 0: none)', whole)
    .option('--seed <n>', 'seed of the patch sampling', whole, 7)
    .option('--overwrite', 'replace an existing output file')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (flags: LearnFlags) => {
      if (order.length === 0) throw new LookoutError('USAGE', 'give at least one --manifest <file> or --dataset <dir>');
      const dataset = await loadDatasets(order.map((path) => ({ path, ...(flags.s3Root ? { s3Root: flags.s3Root } : {}) })));
      const started = Date.now();
      const layout = {
        ...(flags.levels !== undefined ? { levels: flags.levels } : {}),
        ...(flags.filters !== undefined ? { filters: flags.filters } : {}),
        ...(flags.textureFilters !== undefined ? { textureFilters: flags.textureFilters } : {}),
      };
      const fx = await learnFeatureExtractor(dataset.train, {
        output: resolve(flags.output),
        longestSide: flags.longestSide,
        layout,
        seed: flags.seed,
        openOnnxSession,
        ...(flags.overwrite ? { overwrite: true } : {}),
        ...(flags.quiet ? {} : { onProgress: renderProgress }),
      });
      if (!flags.quiet) process.stderr.write('\n');
      const explained = fx.explained.map((e) => e.toFixed(2)).join(', ');
      process.stdout.write(
        `learned a feature extractor in ${((Date.now() - started) / 1000).toFixed(1)} s → ${fx.output}\n` +
          `  input ${fx.working.width}x${fx.working.height}; ${fx.layout.levels} scales × ${fx.layout.filters} filters + ${fx.layout.textureFilters} texture filters = ${fx.channels} channels every ${fx.layout.stride} px; variance kept ${explained}\n` +
          `  next: lookout-edge train --feature-extractor ${flags.output} --longest-side ${flags.longestSide} …\n`,
      );
    });
  return cmd;
}

function renderProgress(p: TrainProgress): void {
  const pct = p.total > 0 ? Math.round((100 * p.done) / p.total) : 100;
  process.stderr.write(`\r${p.stage.padEnd(9)} ${String(pct).padStart(3)}% (${p.done}/${p.total})\u001b[K`);
}
