import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { LookoutError } from '../core/errors.js';
import { createSharpImageCodec } from '../evidence/adapters/sharp-image-codec.js';
import type { ModelRuntime } from '../model-server/runtime.js';
import { RUNTIMES, readManifest } from '../model-server/runtimes/index.js';
import { createSharpBatchLoader } from '../reports/adapters/sharp-batch-loader.js';
import { expandInputs } from '../reports/batch-files.js';
import { type BatchModel, runBatchInspection } from '../reports/batch-inspection.js';
import { batchRowsToCsv, batchRowsToJson } from '../reports/batch-report-format.js';
import { createProgressPrinter } from '../reports/progress.js';

interface InspectOptions {
  model: string;
  out?: string;
  format?: 'csv' | 'json';
  masks?: string;
  concurrency: string;
  recursive?: boolean;
  resize: 'fill' | 'fit';
}

export interface InspectCommandDeps {
  /** Model runtimes by manifest `runtime` (tests add their own). */
  readonly runtimes?: Readonly<Record<string, ModelRuntime>>;
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** `lookout-edge inspect <folder or glob> --model <dir> [--out report.csv|json] [--masks dir]`. */
export function inspectCommand(deps: InspectCommandDeps = {}): Command {
  return new Command('inspect')
    .description('run the preprocessing and a model over a folder or glob of images; write a CSV/JSON report and the masks')
    .argument('<input>', "a folder, an image, or a quoted glob such as 'batch/**/*.jpg'")
    .requiredOption('--model <dir>', 'model directory (manifest.json + files), loaded in-process')
    .option('--out <file>', 'report file; .json → JSON, anything else CSV (default: CSV on stdout)')
    .addOption(new Option('--format <format>', 'report format (overrides the --out extension)').choices(['csv', 'json']))
    .option('--masks <dir>', 'write the masks the model returns as PNG')
    .option('--concurrency <n>', 'images in flight', '1')
    .option('-r, --recursive', 'descend into sub-folders of a folder input')
    .addOption(new Option('--resize <mode>', 'fill (stretch) or fit (keep aspect, pad black)').choices(['fill', 'fit']).default('fill'))
    .action(async (input: string, opts: InspectOptions) => {
      const runtimes = deps.runtimes ?? RUNTIMES;
      const stdout = deps.stdout ?? process.stdout;
      const stderr = deps.stderr ?? process.stderr;
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new LookoutError('USAGE', '--concurrency must be 1-64');
      const { root, files } = await expandInputs(input, { recursive: opts.recursive ?? false });
      if (files.length === 0) throw new LookoutError('USAGE', `no image files match ${input}`);

      const manifest = await readManifest(opts.model);
      const runtime = runtimes[manifest.runtime];
      if (!runtime) {
        throw new LookoutError('MODEL_MANIFEST_INVALID', `no runtime "${manifest.runtime}" for ${opts.model} (known: ${Object.keys(runtimes).join(', ') || 'none'})`);
      }
      const loaded = await runtime.load(opts.model, manifest);
      const model: BatchModel = { input: manifest.input, infer: (image) => loaded.infer(image, { wantMask: opts.masks !== undefined }) };
      const progress = createProgressPrinter(stderr);
      const started = Date.now();
      let rows;
      try {
        const codec = createSharpImageCodec();
        rows = await runBatchInspection({
          files,
          root,
          model,
          loader: createSharpBatchLoader({ resize: opts.resize }),
          concurrency,
          onProgress: (p) => progress.update(p),
          ...(opts.masks ? { masks: { dir: opts.masks, encodePng: (m) => codec.encodePng(m) } } : {}),
        });
      } finally {
        progress.end();
        await loaded.unload();
      }
      const anomalous = rows.filter((r) => r.isAnomalous).length;
      const errors = rows.filter((r) => r.error).length;
      const summary = { model: { name: manifest.name, version: manifest.version, runtime: manifest.runtime, threshold: manifest.threshold }, images: rows.length, anomalous, errors, seconds: (Date.now() - started) / 1000 };
      const format = opts.format ?? (opts.out?.toLowerCase().endsWith('.json') ? 'json' : 'csv');
      const text = format === 'json' ? batchRowsToJson(rows, summary) : batchRowsToCsv(rows);
      if (opts.out) await writeFile(opts.out, text);
      else stdout.write(text);
      stderr.write(`inspected ${rows.length} images: ${anomalous} anomalous, ${errors} unreadable, ${summary.seconds.toFixed(1)} s\n`);
    });
}
