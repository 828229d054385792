import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { LookoutError } from '../core/errors.js';
import { compareReports, comparisonCsv, comparisonText } from '../model-server/train/compare.js';
import { type EvaluationReport, evaluateModel, reportCsv, reportText } from '../model-server/train/evaluate.js';
import { loadDataset } from '../model-server/train/load-dataset.js';

interface EvaluateFlags {
  model?: string[];
  compare?: string[];
  s3Root?: string;
  split: 'test' | 'train';
  csv?: string;
  json?: string;
  requireBetter?: boolean;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/**
 * `lookout-edge evaluate`: precision, recall, F1, AUROC and per-image scores of a model on a labelled
 * test set; with several models (`-m old -m new`, or `-m new --compare old`) every model runs on the same
 * entries and the metrics are printed side by side with the deltas (last − first).
 */
export function evaluateCommand(): Command {
  return new Command('evaluate')
    .exitOverride()
    .showHelpAfterError()
    .description('evaluate a model, or compare models side by side, on a labelled test set: a manifest, a folder layout (its test/ split), an exported dataset folder or a folder of test-anomaly-N/test-normal-N images')
    .argument('<test-set>', 'manifest file, folder layout root, or folder of labelled images')
    .option('-m, --model <dir>', 'model directory (with manifest.json); repeat to compare: the first is the baseline, the last the candidate', collect)
    .option('--compare <dir>', 'baseline model to compare the --model against (same as giving it as the first --model)', collect)
    .option('--s3-root <dir>', 'local folder standing in for the bucket of s3:// references')
    .option('--split <split>', 'which split of a folder layout to use (test|train)', 'test')
    .option('--csv <file>', 'write per-image scores as CSV (with several models: one row per model and image)')
    .option('--json <file>', 'write the whole report as JSON (with several models: every report and the deltas)')
    .option('--require-better', 'with several models: exit 1 when the candidate\'s F1 is lower than the baseline\'s (a promotion gate; equal passes)')
    .action(async (testSet: string, flags: EvaluateFlags) => {
      const models = [...(flags.compare ?? []), ...(flags.model ?? [])];
      if (models.length === 0) throw new LookoutError('USAGE', 'give a model: -m <dir> (repeat, or add --compare <dir>, to compare models)');
      if (flags.requireBetter && models.length < 2) throw new LookoutError('USAGE', '--require-better needs two models to compare (-m old -m new)');
      const dataset = await loadDataset({ path: testSet, ...(flags.s3Root ? { s3Root: flags.s3Root } : {}) });
      const entries = flags.split === 'train' ? dataset.train : dataset.test;
      if (entries.length === 0) throw new LookoutError('DATASET_INVALID', `${testSet} has no ${flags.split} images`);
      if (models.length === 1) {
        const report = await evaluateModel(models[0]!, entries);
        process.stdout.write(reportText(report));
        if (flags.csv) await writeFile(flags.csv, reportCsv(report));
        if (flags.json) await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      const reports: { dir: string; report: EvaluationReport }[] = [];
      for (const dir of models) reports.push({ dir, report: await evaluateModel(dir, entries) });
      const comparison = compareReports(reports);
      process.stdout.write(comparisonText(comparison));
      if (flags.csv) await writeFile(flags.csv, comparisonCsv(comparison));
      if (flags.json) await writeFile(flags.json, `${JSON.stringify(comparison, null, 2)}\n`);
      if (flags.requireBetter && !comparison.candidateNotWorse) {
        const [base, cand] = [reports[0]!.report, reports[reports.length - 1]!.report];
        // Exit 1: the retrained model did not pass the promotion gate.
        throw new LookoutError('MODEL_NOT_BETTER', `candidate ${cand.model.name} ${cand.model.version} has F1 ${cand.metrics.f1.toFixed(3)}, lower than the baseline ${base.model.name} ${base.model.version} (${base.metrics.f1.toFixed(3)}); not promoting`, {
          details: { baselineF1: base.metrics.f1, candidateF1: cand.metrics.f1 },
        });
      }
    });
}
