/**
 * Soak: the whole deployment for a while, watching both processes' memory. The inspector (`lookout-edge
 * run`) and the model server (`lookout-edge serve-model`, a built-in model trained here in a few seconds)
 * run as separate processes, as the nucleus runs them; 4 HTTP snapshot cameras at 5 fps each serve
 * 1024x768 JPEGs of synthetic parts (normal and defective, so verdicts pass and reject and evidence is
 * kept); every verdict goes through the durable outbox to a real mosquitto, where a subscriber counts it.
 *
 * Every few seconds the resident set (VmRSS in /proc/<pid>/status) of both processes is sampled. The first
 * 20% of the run is warm-up (JIT, pools, caches, the outbox's pages) and left out; over the rest the peak,
 * the median and the least-squares slope in MB/h are reported, against the goals: flat (slope ≤ 5 MB/h)
 * and ≤ 200 MB inspector RSS with 4 cameras.
 *
 * The inspector runs with the environment recipe.yaml's Run step sets (malloc arenas, V8 flags, thread pool).
 * Both processes run the compiled CLI as deployed (bin/lookout-edge.js; the bench runs `npm run build`'s
 * compiler first): tsx would add ~45 MB to each. `--soak-from=source` runs them through tsx instead.
 * Default 3 minutes; the hour: `npm run bench -- soak --soak-minutes=60` (or BENCH_SOAK_MINUTES=60).
 * Linux only (/proc). Run alone: `npx tsx bench/soak.bench.ts`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { readManifest } from '../src/model-server/runtimes/index.js';
import { loadDataset } from '../src/model-server/train/load-dataset.js';
import { generateDataset } from '../src/model-server/train/synthetic.js';
import { trainModel } from '../src/model-server/train/trainer.js';
import { FROM_BUILD, FROM_SOURCE } from '../test/helpers/cli-entry.js';
import { startServeModel } from '../test/model-server/serve-model-process.js';
import { HttpCamera } from '../test/peers/http-camera.js';
import { freePort, startMosquitto } from '../test/peers/mosquitto.js';
import { startInspectorProcess, writeInspectorConfig } from '../test/pipeline/inspector-process.js';
import { recipeRunEnv } from './recipe-env.js';
import type { BenchResult } from './types.js';

const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 3);
const SAMPLE_MS = Number(process.env.BENCH_SOAK_SAMPLE_SECONDS ?? 5) * 1000;
const CAMERAS = 4;
const FPS = 5;
const WARM_UP = 0.2;
const FROM = process.env.BENCH_SOAK_FROM ?? 'build';
const GOAL = { slopeMbPerHour: 5, inspectorMb: 200 };
/**
 * The mask store's file cap for the run. At the default (20000) the 4 cameras' rejects fill it in about 21
 * minutes, so an hour's slope would measure the store filling (its memory of the files it keeps, ~7 MB at
 * the cap), not a leak. The bench caps it lower so the cap is reached within the warm-up; the store's
 * memory is bounded by its cap either way.
 */
const MASK_FILES = Number(process.env.BENCH_SOAK_MASK_FILES ?? 4000);

interface Sample {
  /** Seconds since the cameras started. */
  readonly t: number;
  readonly inspector: number;
  readonly server: number;
  /** The inspector's anonymous RSS (heap, malloc, SQLite's page caches) in MB. */
  readonly anon: number;
  /** The inspector's V8 heap (used) and external (Buffers, sharp's pixels) memory in MB, from /metrics. */
  readonly heapUsed: number;
  readonly external: number;
}

/** CPU seconds (user + system) the process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A /proc/<pid>/status field in MB (kB in the file); NaN when the process is gone. */
function procStatusMb(pid: number, field: 'VmRSS' | 'RssAnon' | 'RssFile' | 'RssShmem'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((p, q) => p - q);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function summarise(samples: readonly Sample[], key: 'inspector' | 'server') {
  const values = samples.map((s) => s[key]);
  return { peak: Math.max(...values), median: median(values), slopePerHour: slope(samples.map((s) => s.t / 3600), values) };
}

/** The camera frames: the generated test parts, upscaled to 1024x768 JPEGs as a camera would send. */
async function cameraFrames(dataDir: string): Promise<Buffer[]> {
  const files = [1, 2, 3, 4].flatMap((k) => [join(dataDir, 'test', 'normal', `normal-${k}.png`), join(dataDir, 'test', 'anomaly', `anomaly-${k}.png`)]);
  return Promise.all(files.map((f) => sharp(f).resize(1024, 768, { fit: 'fill' }).jpeg({ quality: 85 }).toBuffer()));
}

/** `npm run build`: the compiled CLI that bin/lookout-edge.js starts. */
async function build(): Promise<void> {
  const tsc = new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname;
  const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: new URL('..', import.meta.url).pathname, stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the build failed (tsc exit ${code})`);
}

function metric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

export async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'le-bench-soak-'));
  const cleanup: Array<() => Promise<unknown>> = [async () => rm(dir, { recursive: true, force: true })];
  try {
    if (FROM !== 'build' && FROM !== 'source') throw new Error(`BENCH_SOAK_FROM is build or source, not ${FROM}`);
    const entry = FROM === 'build' ? FROM_BUILD : FROM_SOURCE;
    if (FROM === 'build') await build();
    // The model: the built-in runtime trained on a small generated dataset (~7 s on the dev VM).
    const data = await generateDataset(join(dir, 'data'), { normal: 27, anomalous: 8, testNormal: 4, testAnomalous: 4, seed: 9, size: 256 });
    await trainModel((await loadDataset({ path: data.trainManifest })).train, { name: 'soak', version: '1.0.0', output: join(dir, 'models', 'soak-model') });
    const { input } = await readManifest(join(dir, 'models', 'soak-model'));

    const broker = await startMosquitto();
    cleanup.unshift(() => broker.close());
    const frames = await cameraFrames(data.dir);
    const cameras = await Promise.all(
      Array.from({ length: CAMERAS }, async () => {
        const camera = new HttpCamera(frames[0] as Buffer);
        await camera.start();
        return camera;
      }),
    );
    cleanup.unshift(() => Promise.all(cameras.map((c) => c.stop())));
    let tick = 0;
    const rotate = setInterval(() => {
      tick += 1;
      cameras.forEach((c, i) => (c.jpeg = frames[(tick + i) % frames.length] as Buffer));
    }, 1_000);
    cleanup.unshift(async () => clearInterval(rotate));

    const verdicts: { total: number; [outcome: string]: number } = { total: 0, pass: 0, reject: 0, hold: 0 };
    const subscriber = await mqtt.connectAsync(broker.url, { clientId: 'soak-subscriber' });
    cleanup.unshift(() => subscriber.endAsync());
    subscriber.on('message', (_topic, payload) => {
      const outcome = (JSON.parse(payload.toString()) as { outcome: string }).outcome;
      verdicts.total += 1;
      verdicts[outcome] = (verdicts[outcome] ?? 0) + 1;
    });
    await subscriber.subscribeAsync('lookout/soak/+/verdict', { qos: 1 });

    const socket = join(dir, 'agent.sock');
    const server = startServeModel(['--log-level', 'warn', '--set', `modelServer.socket=${socket}`, '--set', `modelServer.modelsDir=${join(dir, 'models')}`], process.env, entry);
    cleanup.unshift(async () => {
      server.child.kill('SIGTERM');
      await server.exited();
    });
    const statusPort = await freePort();
    const configPath = await writeInspectorConfig(dir, {
      thingName: 'soak',
      logging: { level: 'warn' },
      inference: { endpoint: `unix://${socket}`, modelComponent: 'soak-model' },
      cameras: cameras.map((c, i) => ({ id: `cam${i + 1}`, source: { type: 'http', url: `${c.url}/snapshot.jpg`, intervalMs: 1000 / FPS }, preprocess: input })),
      publish: { cloud: 'mqtt', mqtt: { host: broker.host, port: broker.port, clientId: 'soak-inspector' } },
      outbox: { path: join(dir, 'outbox.sqlite') },
      masks: { dir: join(dir, 'masks'), maxFiles: MASK_FILES },
      evidence: { dir: join(dir, 'evidence') },
      status: { enabled: true, port: statusPort },
    });
    const runEnv = recipeRunEnv();
    const inspector = startInspectorProcess(configPath, [], entry, { ...process.env, ...runEnv });
    cleanup.unshift(() => inspector.stop());

    const deadline = Date.now() + 120_000;
    while (verdicts.total === 0) {
      if (Date.now() > deadline || inspector.child.exitCode !== null || server.child.exitCode !== null) {
        throw new Error(`no verdict reached the broker: ${JSON.stringify(inspector.recent.slice(-5))} ${server.stderr().slice(-500)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    const durationS = MINUTES * 60;
    const started = performance.now();
    const counted0 = verdicts.total;
    const samples: Sample[] = [];
    let outboxPeak = 0;
    const cpu0 = cpuSeconds(inspector.pid);
    const metricsUrl = `http://127.0.0.1:${statusPort}/metrics`;
    process.stderr.write(`soak: ${CAMERAS} cameras at ${FPS} fps for ${MINUTES} min, mask store capped at ${MASK_FILES} files, RSS every ${SAMPLE_MS / 1000} s, processes from the ${FROM}\n`);
    for (;;) {
      const t = (performance.now() - started) / 1000;
      const text = await (await fetch(metricsUrl)).text();
      const sample = {
        t,
        inspector: procStatusMb(inspector.pid, 'VmRSS'),
        server: procStatusMb(server.child.pid as number, 'VmRSS'),
        anon: procStatusMb(inspector.pid, 'RssAnon'),
        heapUsed: metric(text, 'nodejs_heap_size_used_bytes') / 2 ** 20,
        external: metric(text, 'nodejs_external_memory_bytes') / 2 ** 20,
      };
      if (Number.isNaN(sample.inspector) || Number.isNaN(sample.server)) throw new Error(`a process ended during the soak: ${JSON.stringify(inspector.recent.slice(-5))} ${server.stderr().slice(-500)}`);
      samples.push(sample);
      outboxPeak = Math.max(outboxPeak, metric(text, 'lookout_edge_outbox_depth'));
      if (samples.length % 12 === 0) process.stderr.write(`soak: ${t.toFixed(0)} s inspector ${sample.inspector.toFixed(1)} MB (anonymous ${sample.anon.toFixed(1)}, heap used ${sample.heapUsed.toFixed(1)}, external ${sample.external.toFixed(1)}), model server ${sample.server.toFixed(1)} MB, ${verdicts.total} verdicts\n`);
      if (t >= durationS) break;
      await new Promise((r) => setTimeout(r, Math.min(SAMPLE_MS, (durationS - t) * 1000 + 1)));
    }
    const seconds = (performance.now() - started) / 1000;
    const counted = verdicts.total - counted0;
    const cpuMsPerVerdict = ((cpuSeconds(inspector.pid) - cpu0) * 1000) / Math.max(1, counted);
    const metricsText = await (await fetch(metricsUrl)).text();
    const frameErrors = metric(metricsText, 'lookout_edge_frame_errors_total');
    const dropped = metric(metricsText, 'lookout_edge_frames_dropped_total');
    const memory = { anon: procStatusMb(inspector.pid, 'RssAnon'), file: procStatusMb(inspector.pid, 'RssFile'), shmem: procStatusMb(inspector.pid, 'RssShmem') };
    const errorLines = inspector.errorLines() + server.logs.filter((l) => typeof l.level === 'number' && l.level >= 50).length;

    const kept = samples.filter((s) => s.t >= WARM_UP * durationS);
    const insp = summarise(kept, 'inspector');
    const srv = summarise(kept, 'server');
    const checks = [
      { what: 'inspector RSS slope', ok: insp.slopePerHour <= GOAL.slopeMbPerHour, text: `${insp.slopePerHour.toFixed(1)} MB/h (goal ≤ ${GOAL.slopeMbPerHour})` },
      { what: 'model server RSS slope', ok: srv.slopePerHour <= GOAL.slopeMbPerHour, text: `${srv.slopePerHour.toFixed(1)} MB/h (goal ≤ ${GOAL.slopeMbPerHour})` },
      { what: 'inspector RSS peak', ok: insp.peak <= GOAL.inspectorMb, text: `${insp.peak.toFixed(1)} MB (goal ≤ ${GOAL.inspectorMb})` },
    ];
    for (const c of checks) process.stderr.write(`soak: ${c.ok ? 'PASS' : 'FAIL'} ${c.what} ${c.text}\n`);
    const atPeak = kept.reduce((a, b) => (b.inspector > a.inspector ? b : a));
    process.stderr.write(
      `soak: inspector environment from recipe.yaml ${JSON.stringify(runEnv)}; at its peak (${atPeak.t.toFixed(0)} s): V8 heap used ${atPeak.heapUsed.toFixed(1)} MB, ` +
        `external ${atPeak.external.toFixed(1)} MB; median heap used ${median(kept.map((k) => k.heapUsed)).toFixed(1)} MB, external ${median(kept.map((k) => k.external)).toFixed(1)} MB; ${cpuMsPerVerdict.toFixed(2)} CPU ms per verdict\n`,
    );
    process.stderr.write(
      `soak: inspector at the end: anonymous ${memory.anon.toFixed(1)} MB, file-backed ${memory.file.toFixed(1)} MB, shared memory ${memory.shmem.toFixed(1)} MB; ` +
        `${counted} verdicts in ${seconds.toFixed(0)} s (${JSON.stringify(verdicts)}), outbox peak depth ${outboxPeak}, frame errors ${frameErrors}, frames dropped ${dropped}, error log lines ${errorLines}\n`,
    );

    const tenths = Array.from({ length: 11 }, (_, k) => samples[Math.min(samples.length - 1, Math.round((k * (samples.length - 1)) / 10))] as Sample);
    process.stderr.write(`soak: inspector RSS / anonymous / heap used by tenth of the run (MB): ${tenths.map((s) => `${(s.t / 60).toFixed(0)} min ${s.inspector.toFixed(1)}/${s.anon.toFixed(1)}/${s.heapUsed.toFixed(1)}`).join(', ')}\n`);

    const span = `${(kept[0]?.t ?? 0).toFixed(0)}-${seconds.toFixed(0)} s, ${kept.length} samples`;
    const expected = CAMERAS * FPS * seconds;
    return [
      { name: `inspector RSS peak after warm-up (${span}; processes from the ${FROM})`, value: insp.peak, unit: 'MB', target: `≤ ${GOAL.inspectorMb} MB` },
      { name: 'inspector RSS median after warm-up', value: insp.median, unit: 'MB' },
      { name: 'inspector RSS slope after warm-up (least squares)', value: insp.slopePerHour, unit: 'MB/h', target: `≤ ${GOAL.slopeMbPerHour} MB/h` },
      { name: 'inspector CPU per verdict (user + system)', value: cpuMsPerVerdict, unit: 'ms' },
      { name: 'model server RSS peak after warm-up', value: srv.peak, unit: 'MB' },
      { name: 'model server RSS median after warm-up', value: srv.median, unit: 'MB' },
      { name: 'model server RSS slope after warm-up (least squares)', value: srv.slopePerHour, unit: 'MB/h', target: `≤ ${GOAL.slopeMbPerHour} MB/h` },
      { name: `verdicts at the broker, ${CAMERAS} cameras × ${FPS} fps (outbox peak depth ${outboxPeak})`, value: counted, unit: 'verdicts', baseline: { name: 'frames the cameras were asked for', value: expected }, ratio: counted / expected },
      { name: `errors: frame errors ${frameErrors}, frames dropped ${dropped}, error log lines ${errorLines}`, value: frameErrors + errorLines, unit: 'errors', target: '0' },
      { name: `soak ${MINUTES} min: ${checks.every((c) => c.ok) ? 'PASS' : `FAIL (${checks.filter((c) => !c.ok).map((c) => c.what).join(', ')})`}`, value: checks.filter((c) => c.ok).length, unit: `of ${checks.length} goals met` },
    ];
  } finally {
    for (const step of cleanup) await step().catch(() => undefined);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(r);
}
