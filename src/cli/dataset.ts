import { Command, Option } from 'commander';
import { LookoutError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { createSharpImageCodec } from '../evidence/adapters/sharp-image-codec.js';
import { exportDataset } from '../model-server/train/dataset-export.js';
import { parseInstant } from '../reports/zoned-days.js';
import { openExistingEvidenceIndex } from '../evidence/adapters/create-evidence-store.js';
import { type ConfigOptions, resolveConfig, withConfigOptions } from './config-options.js';

interface ExportOptions extends ConfigOptions {
  evidence?: string;
  out: string;
  since?: string;
  className?: string;
  color?: string;
  layout: 'manifest' | 'folders';
  split: 'train' | 'test';
}

/** `lookout-edge dataset export --evidence <dir> --out <dir> [--since …] [--class-name crack --color #RRGGBB]`. */
export function datasetCommand(): Command {
  const cmd = new Command('dataset').description('datasets from reviewed evidence');
  withConfigOptions(cmd.command('export'))
    .description('write reviewed frames as a Lookout for Vision dataset (images, masks, manifest) to merge with the original')
    .requiredOption('--out <dir>', 'dataset folder to write')
    .option('--evidence <dir>', 'evidence directory (default: evidence.dir from the configuration)')
    .option('--since <date>', 'only decisions reviewed since (YYYY-MM-DD UTC or ISO 8601)')
    .option('--class-name <name>', 'single-class export: every defect pixel becomes this class')
    .option('--color <#RRGGBB>', 'the colour of --class-name in the masks and the color map')
    .addOption(new Option('--layout <layout>', 'manifest (images/, masks/, manifests/<split>.manifest) or folders (<split>/normal, <split>/anomaly)').choices(['manifest', 'folders']).default('manifest'))
    .addOption(new Option('--split <split>', 'which split the frames go to').choices(['train', 'test']).default('train'))
    .action(async (opts: ExportOptions) => {
      if ((opts.className === undefined) !== (opts.color === undefined)) throw new LookoutError('USAGE', '--class-name and --color go together');
      const evidenceDir = opts.evidence ?? (await resolveConfig(opts, process.env)).evidence.dir;
      const log = createLogger(opts.logLevel ?? 'warn', process.stderr);
      const index = openExistingEvidenceIndex(evidenceDir);
      try {
        const result = await exportDataset({
          reader: index,
          evidenceDir,
          outDir: opts.out,
          codec: createSharpImageCodec(),
          log,
          layout: opts.layout,
          split: opts.split,
          ...(opts.since ? { reviewedSince: parseInstant(opts.since, 'UTC', 'start') } : {}),
          ...(opts.className && opts.color ? { singleClass: { name: opts.className, hexColor: opts.color } } : {}),
        });
        process.stdout.write(
          `${JSON.stringify({ out: opts.out, manifest: result.manifestPath, normal: result.normal, anomalous: result.anomalous, masks: result.masks, classes: result.classes, sizes: result.sizes, skipped: result.skipped }, null, 2)}\n`,
        );
      } finally {
        index.close();
      }
    });
  return cmd;
}
