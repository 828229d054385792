import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { LookoutError } from '../core/errors.js';
import { evaluateModel, reportCsv, reportText } from '../train/evaluate.js';
import { loadDataset } from '../train/load-dataset.js';

interface EvaluateFlags {
  model: string;
  s3Root?: string;
  split: 'test' | 'train';
  csv?: string;
  json?: string;
}

/** `lookout-edge evaluate`: precision, recall, F1, AUROC and per-image scores of a model on a labelled test set. */
export function evaluateCommand(): Command {
  return new Command('evaluate')
    .exitOverride()
    .showHelpAfterError()
    .description('evaluate a model on a labelled test set: a manifest, a folder layout (its test/ split) or a folder of test-anomaly-N/test-normal-N images')
    .argument('<test-set>', 'manifest file, folder layout root, or folder of labelled images')
    .requiredOption('-m, --model <dir>', 'model directory (with manifest.json)')
    .option('--s3-root <dir>', 'local folder standing in for the bucket of s3:// references')
    .option('--split <split>', 'which split of a folder layout to use (test|train)', 'test')
    .option('--csv <file>', 'write per-image scores as CSV')
    .option('--json <file>', 'write the whole report as JSON')
    .action(async (testSet: string, flags: EvaluateFlags) => {
      const dataset = await loadDataset({ path: testSet, ...(flags.s3Root ? { s3Root: flags.s3Root } : {}) });
      const entries = flags.split === 'train' ? dataset.train : dataset.test;
      if (entries.length === 0) throw new LookoutError('DATASET_INVALID', `${testSet} has no ${flags.split} images`);
      const report = await evaluateModel(flags.model, entries);
      process.stdout.write(reportText(report));
      if (flags.csv) await writeFile(flags.csv, reportCsv(report));
      if (flags.json) await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
    });
}
