import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { LookoutError } from '../core/errors.js';
import { createSharpImageCodec } from '../evidence/adapters/sharp-image-codec.js';
import type { InferenceClient } from '../inference/inference-client.js';
import type { ModelRuntime } from '../model-server/runtime.js';
import { RUNTIMES, readManifest } from '../model-server/runtimes/index.js';
import { createSharpBatchLoader } from '../reports/adapters/sharp-batch-loader.js';
import { expandInputs } from '../reports/batch-files.js';
import { type BatchModel, batchModelFromClient, runBatchInspection } from '../reports/batch-inspection.js';
import { batchRowsToCsv, batchRowsToJson } from '../reports/batch-report-format.js';
import { createProgressPrinter } from '../reports/progress.js';

interface InspectOptions {
  model?: string;
  socket?: string;
  component?: string;
  size?: string;
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
  /** Builds an Edge Agent client for `--socket` (the composition root passes the gRPC client factory). */
  readonly connectEdgeAgent?: (socket: string) => InferenceClient;
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** `lookout-edge inspect <folder or glob> --model <dir> | --socket <path> --component <name> --size WxH [--out report.csv|json] [--masks dir]`. */
export function inspectCommand(deps: InspectCommandDeps = {}): Command {
  return new Command('inspect')
    .description('run the preprocessing and a model over a folder or glob of images; write a CSV/JSON report and the masks')
    .argument('<input>', "a folder, an image, or a quoted glob such as 'batch/**/*.jpg'")
    .option('--model <dir>', 'model directory (manifest.json + files), loaded in-process')
    .option('--socket <path>', 'or: a running Edge Agent (unix socket path or host:port) with --component and --size')
    .option('--component <name>', 'model component on the Edge Agent (with --socket)')
    .option('--size <WxH>', 'the model input size (with --socket)')
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

      const { model, describe, close } = await openModel(opts, runtimes, deps.connectEdgeAgent);
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
        await close();
      }
      const anomalous = rows.filter((r) => r.isAnomalous).length;
      const errors = rows.filter((r) => r.error).length;
      const summary = { model: describe, images: rows.length, anomalous, errors, seconds: (Date.now() - started) / 1000 };
      const format = opts.format ?? (opts.out?.toLowerCase().endsWith('.json') ? 'json' : 'csv');
      const text = format === 'json' ? batchRowsToJson(rows, summary) : batchRowsToCsv(rows);
      if (opts.out) await writeFile(opts.out, text);
      else stdout.write(text);
      stderr.write(`inspected ${rows.length} images: ${anomalous} anomalous, ${errors} unreadable, ${summary.seconds.toFixed(1)} s\n`);
    });
}

interface OpenedModel {
  readonly model: BatchModel;
  readonly describe: Record<string, unknown>;
  close(): Promise<void>;
}

/** `--model <dir>`: load in-process through its runtime; `--socket`: a running Edge Agent. */
async function openModel(opts: InspectOptions, runtimes: Readonly<Record<string, ModelRuntime>>, connect?: (socket: string) => InferenceClient): Promise<OpenedModel> {
  const wantMask = opts.masks !== undefined;
  if (opts.model && opts.socket) throw new LookoutError('USAGE', 'give --model or --socket, not both');
  if (opts.socket) {
    const size = /^(\d+)x(\d+)$/.exec(opts.size ?? '');
    if (!opts.component || !size) throw new LookoutError('USAGE', '--socket needs --component <name> and --size <WxH>');
    if (!connect) throw new LookoutError('USAGE', '--socket is not available in this build; use --model <dir>');
    const client = connect(opts.socket);
    await client.start();
    try {
      await client.ensureRunning(opts.component);
    } catch (err) {
      await client.stop('inspect: model not running');
      throw err;
    }
    const input = { width: Number(size[1]), height: Number(size[2]) };
    return {
      model: batchModelFromClient(client, opts.component, input, { wantMask }),
      describe: { component: opts.component, socket: opts.socket, input },
      close: () => client.stop('inspect done'),
    };
  }
  if (!opts.model) throw new LookoutError('USAGE', 'give --model <dir> (or --socket with --component and --size)');
  const manifest = await readManifest(opts.model);
  const runtime = runtimes[manifest.runtime];
  if (!runtime) {
    throw new LookoutError('MODEL_MANIFEST_INVALID', `no runtime "${manifest.runtime}" for ${opts.model} (known: ${Object.keys(runtimes).join(', ') || 'none'})`);
  }
  const loaded = await runtime.load(opts.model, manifest);
  return {
    model: { input: manifest.input, infer: (image) => loaded.infer(image, { wantMask }) },
    describe: { name: manifest.name, version: manifest.version, runtime: manifest.runtime, threshold: manifest.threshold },
    close: () => loaded.unload(),
  };
}
