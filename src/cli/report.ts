import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { LookoutError } from '../core/errors.js';
import { buildDefectReport } from '../reports/defect-report.js';
import { reportToCsv, reportToJson } from '../reports/report-format.js';
import { parseInstant } from '../reports/zoned-days.js';
import { openExistingEvidenceIndex } from '../evidence/adapters/create-evidence-store.js';
import { type ConfigOptions, resolveConfig, withConfigOptions } from './config-options.js';

interface ReportOptions extends ConfigOptions {
  evidence?: string;
  since: string;
  until?: string;
  camera?: string;
  tz: string;
  format: 'csv' | 'json';
  out?: string;
}

/** `lookout-edge report --since 2026-11-01 [--until …] [--camera …] [--tz …] --format csv|json [--out file]`. */
export function reportCommand(): Command {
  const cmd = new Command('report').description('defect report per camera and day from the verdict history: inspected, rejected, reject rate, defect classes and areas');
  withConfigOptions(cmd)
    .requiredOption('--since <date>', 'first day (YYYY-MM-DD in --tz) or an ISO 8601 instant')
    .option('--until <date>', 'last day, included (YYYY-MM-DD) or an ISO 8601 instant (exclusive); default now')
    .option('--camera <id>', 'one camera only')
    .option('--tz <zone>', 'IANA time zone for days', 'UTC')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--evidence <dir>', 'evidence directory (default: evidence.dir from the configuration)')
    .action(async (opts: ReportOptions) => {
      const since = parseInstant(opts.since, opts.tz, 'start');
      const until = opts.until ? parseInstant(opts.until, opts.tz, 'end') : Date.now();
      if (until <= since) throw new LookoutError('USAGE', '--until must be after --since');
      const index = openExistingEvidenceIndex(opts.evidence ?? (await resolveConfig(opts, process.env)).evidence.dir);
      try {
        const report = buildDefectReport(index, { since, until, timeZone: opts.tz, ...(opts.camera ? { cameraId: opts.camera } : {}) });
        const text = opts.format === 'json' ? reportToJson(report) : reportToCsv(report);
        if (opts.out) await writeFile(opts.out, text);
        else process.stdout.write(text);
      } finally {
        index.close();
      }
    });
  return cmd;
}
