import { resolve } from 'node:path';
import { Command } from 'commander';
import { openOnnxSession } from '../model-server/runtimes/adapters/onnx-session.js';
import { learnFeatureExtractor } from '../model-server/train/learn-extractor.js';
import { loadDatasets } from '../model-server/train/load-dataset.js';
import { renderProgress, wholeNumber, withDatasetSources } from './dataset-options.js';

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

/**
 * `lookout-edge feature-extractor learn`: learns a small convolutional feature extractor from a dataset's
 * normal images and writes it as ONNX, for `train --feature-extractor` (src/model-server/runtimes/README.md).
 */
export function featureExtractorCommand(): Command {
  const cmd = new Command('feature-extractor').description('feature extractors for the built-in model (train --feature-extractor)');
  const learn = cmd
    .command('learn')
    .exitOverride()
    .showHelpAfterError()
    .description('learn a PCANet-style convolutional feature extractor from the normal training images (no downloads) and write it as an ONNX graph');
  const sources = withDatasetSources(learn, 'folder layout train/normal (train/anomaly is not used), or an exported dataset folder');
  learn
    .requiredOption('-o, --output <file>', 'the ONNX graph to write (e.g. fx.onnx)')
    .option('--longest-side <px>', 'working resolution: longest image side in pixels (give train the same)', wholeNumber, 256)
    .option('--levels <n>', 'scales, each twice as coarse as the one before (default: the coarsest 7×7 patch covers about half the image; 5 at 256 px)', wholeNumber)
    .option('--filters <n>', 'principal-component filters per scale (default 8)', wholeNumber)
    .option('--texture-filters <n>', 'filters of the texture stage on the finest scale\'s energies (default 8; 0: none)', wholeNumber)
    .option('--seed <n>', 'seed of the patch sampling', wholeNumber, 7)
    .option('--overwrite', 'replace an existing output file')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (flags: LearnFlags) => {
      const dataset = await loadDatasets(sources(flags.s3Root));
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
