/**
 * Throughput as a user runs it (issue 18): `lookout-edge run` in its own process, a zero-cost model
 * (noop runtime) on our model server in another, verdicts through the durable outbox to a real mosquitto,
 * reject signals on the local path to the same broker. Every verdict is a reject (decide.scoreThreshold 0
 * against the noop model's score 0), so each one also takes the reject path.
 *
 * Inputs: FRAMES distinct 1920x1080 JPEGs, resized to 512x384 for the model.
 *   folder  — the files dropped at once into the inbox (split over the cameras); frames/s from the first
 *             verdict at the broker to the last, every file verdicted and moved (lossless path);
 *   replay  — each camera replays the files as fast as the source offers them (free-running, newest
 *             frame wins); frames/s = verdicts at the broker over a measured window after a warm-up;
 *   rtsp    — each camera reads one shared live stream of a GStreamer RTSP server (test/peers: the same
 *             JPEGs sent as they are over RTP, so that no encoder takes the cores from what is measured),
 *             decoded and scaled by its ffmpeg child (free-running); frames/s as for replay.
 * Replay and rtsp offer OFFERED_FPS frames a second between the cameras, more than the machine can take
 * (an RTSP camera at most the 120 fps a source may be configured for).
 *
 * Baseline, measured in the same run right before each case: sharp alone decoding and resizing the same
 * files with one image in flight per core (the machine's best); ratio = frames/s ÷ that. The inspector runs with
 * recipe.yaml's Run environment. Also: p99 of frame → reject (the frame's capture time in the payload to the first
 * reject message at a subscriber), CPU ms per frame of the inspector, its ffmpeg children and the model server
 * (/proc, Linux only), and the case's ceiling: the frames/s that CPU per frame allows with every core busy, over
 * sharp's frames/s.
 *
 * Each case runs BENCH_ROUNDS (3) bursts or windows; frames/s and the baseline are medians over them.
 *
 *   npx tsx bench/run.ts throughput     (BENCH_FRAMES=240, BENCH_REPLAY_SECONDS=6, BENCH_ROUNDS=3,
 *                                        BENCH_OFFERED_FPS=150, BENCH_CASES=replay:1,rtsp:4 for some cases only,
 *                                        BENCH_PROFILE=DIR: a CPU profile of the inspector's and the model
 *                                        server's main threads per case in DIR; see bench/profile-summary.ts)
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { startServeModel } from '../test/model-server/serve-model-process.js';
import { startMosquitto } from '../test/peers/mosquitto.js';
import { RtspServer } from '../test/peers/rtsp-server.js';
import { startInspectorProcess, writeInspectorConfig } from '../test/pipeline/inspector-process.js';
import { recipeRunEnv } from './recipe-env.js';
import type { BenchResult } from './types.js';

const FRAMES = Number(process.env.BENCH_FRAMES ?? 240);
const REPLAY_SECONDS = Number(process.env.BENCH_REPLAY_SECONDS ?? 6);
const OFFERED_FPS = Number(process.env.BENCH_OFFERED_FPS ?? 150);
/** The most an RTSP source may be configured for (config: sources.rtsp.fps). */
const RTSP_MAX_FPS = 120;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Only these cases, e.g. `replay:1,folder:4` (default: all). */
const ONLY = process.env.BENCH_CASES?.split(',').map((c) => c.trim());
const MODEL = { width: 512, height: 384 };
const CORES = availableParallelism();
/** A folder for CPU profiles of the processes under test (bench/cpu-profile-preload.mjs), or undefined. */
const PROFILE_DIR = process.env.BENCH_PROFILE;

/** `env` with the profiling preload added to its NODE_OPTIONS when BENCH_PROFILE is set. */
function profiled(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!PROFILE_DIR) return env;
  const preload = fileURLToPath(new URL('./cpu-profile-preload.mjs', import.meta.url));
  return { ...env, LOOKOUT_PROFILE_DIR: PROFILE_DIR, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --import=${preload}`.trim() };
}

/** FRAMES distinct camera-like 1080p JPEGs: one blurred noise field, a different window of it each. */
async function makeJpegs(count: number): Promise<Buffer[]> {
  const width = 1920 + count;
  const noise = Buffer.alloc(width * 1080 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  const field = await sharp(noise, { raw: { width, height: 1080, channels: 3 } }).blur(2).raw().toBuffer();
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    out.push(await sharp(field, { raw: { width, height: 1080, channels: 3 } }).extract({ left: i, top: 0, width: 1920, height: 1080 }).jpeg({ quality: 85 }).toBuffer());
  }
  return out;
}

/** What sharp alone did: frames/s, and CPU ms per frame (this process's, which does nothing else meanwhile). */
interface SharpRun {
  readonly rate: number;
  readonly cpuMs: number;
}

/** sharp alone: decode + resize of every file, `parallel` images in flight. */
async function sharpRate(jpegs: readonly Buffer[], parallel: number): Promise<SharpRun> {
  let next = 0;
  const t = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < jpegs.length) {
        const jpeg = jpegs[next++] as Buffer;
        await sharp(jpeg).rotate().resize(MODEL.width, MODEL.height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { rate: jpegs.length / ((performance.now() - t) / 1000), cpuMs: (used.user + used.system) / 1000 / jpegs.length };
}

/** CPU ms so far of a process (utime + stime from /proc/<pid>/stat; NaN when unreadable). */
function cpuMs(pid: number | undefined, thread?: number): number {
  try {
    const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** CPU ms so far of a process's child processes (the RTSP cameras' ffmpeg; /proc/<pid>/task/<pid>/children). */
function childrenCpuMs(pid: number | undefined): number {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.reduce((sum, kid) => sum + (cpuMs(Number(kid)) || 0), 0);
  } catch {
    return 0;
  }
}

/** The share of the machine's cores a rate at a CPU cost per frame keeps busy, e.g. `86%`. */
function busy(fps: number, cpuMsPerFrame: number): string {
  return `${((100 * fps * cpuMsPerFrame) / (CORES * 1000)).toFixed(0)}%`;
}

function median(values: readonly number[]): number {
  return percentile(values, 50);
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function waitUntil(check: () => boolean, what: string, timeoutMs: number, alive: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    const dead = alive();
    if (dead) throw new Error(`${what}: ${dead}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What the subscriber saw: verdict arrivals and the first reject of each verdict. */
class BrokerWatch {
  readonly verdicts: Array<{ id: string; at: number }> = [];
  readonly rejectLatency = new Map<string, number>();
  /** Each verdict's stage timings (ms), as its payload reports them: where a frame's time went. */
  readonly timings: Array<Record<string, number>> = [];

  constructor(private readonly client: mqtt.MqttClient) {
    client.on('message', (topic, payload) => {
      const at = performance.timeOrigin + performance.now();
      const body = JSON.parse(payload.toString()) as { verdictId?: string; id?: string; capturedAt?: string; timings?: Record<string, number> };
      if (topic.endsWith('/verdict')) {
        this.verdicts.push({ id: String(body.verdictId ?? body.id), at });
        if (body.timings) this.timings.push(body.timings);
      }
      else if (topic.endsWith('/reject')) {
        const id = String(body.verdictId ?? body.id);
        if (!this.rejectLatency.has(id) && body.capturedAt) this.rejectLatency.set(id, at - Date.parse(body.capturedAt));
      }
    });
  }

  reset(): void {
    this.verdicts.length = 0;
    this.rejectLatency.clear();
    this.timings.length = 0;
  }

  /** Median of each stage's time over the verdicts seen since the last reset, e.g. `queue 3.1, preprocess 20.4`. */
  stages(): string {
    const keys = ['queueMs', 'captureMs', 'preprocessMs', 'inferenceMs', 'totalMs'];
    return keys
      .map((k) => [k, this.timings.map((t) => t[k]).filter((v): v is number => typeof v === 'number')] as const)
      .filter(([, values]) => values.length > 0)
      .map(([k, values]) => `${k.replace(/Ms$/, '')} ${median(values).toFixed(1)}`)
      .join(', ');
  }
}

interface Case {
  readonly path: 'folder' | 'replay' | 'rtsp';
  readonly cameras: number;
}

export async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'le-bench-throughput-'));
  const cleanup: Array<() => Promise<unknown>> = [async () => rm(dir, { recursive: true, force: true })];
  const results: BenchResult[] = [];
  try {
    const jpegs = await makeJpegs(FRAMES);
    const images = join(dir, 'images');
    await mkdir(images);
    await Promise.all(jpegs.map((j, i) => writeFile(join(images, `f${String(i).padStart(4, '0')}.jpg`), j)));

    const modelDir = join(dir, 'models', 'noop-model');
    await mkdir(modelDir, { recursive: true });
    await writeFile(join(modelDir, 'manifest.json'), JSON.stringify({ formatVersion: 1, runtime: 'noop', name: 'noop', version: '1', input: MODEL, threshold: 0.5, classes: [] }));
    const socket = join(dir, 'agent.sock');
    const server = startServeModel(['--log-level', 'warn', '--set', `modelServer.socket=${socket}`, '--set', `modelServer.modelsDir=${join(dir, 'models')}`], profiled(process.env));
    cleanup.unshift(async () => {
      server.child.kill('SIGTERM');
      await server.exited();
    });
    const broker = await startMosquitto();
    cleanup.unshift(() => broker.close());
    const client = await mqtt.connectAsync(broker.url, { clientId: 'throughput-subscriber' });
    cleanup.unshift(() => client.endAsync());
    const watch = new BrokerWatch(client);
    await client.subscribeAsync(['lookout/bench/+/verdict', 'lookout/bench/+/reject'], { qos: 1 });

    const cases: Case[] = [
      { path: 'folder', cameras: 1 },
      { path: 'folder', cameras: 4 },
      { path: 'replay', cameras: 1 },
      { path: 'replay', cameras: 4 },
      { path: 'rtsp', cameras: 1 },
      { path: 'rtsp', cameras: 4 },
    ];
    const runEnv = profiled({ ...process.env, ...recipeRunEnv() });
    for (const [n, c] of cases.entries()) {
      if (ONLY && !ONLY.includes(`${c.path}:${c.cameras}`)) continue;
      const caseDir = join(dir, `case${n}`);
      await mkdir(caseDir);
      const rtspFps = Math.min(RTSP_MAX_FPS, Math.round(OFFERED_FPS / c.cameras));
      let stream: RtspServer | undefined;
      if (c.path === 'rtsp') {
        // one live stream, shared by every camera's session (gst-rtsp-server's shared media)
        stream = new RtspServer({ jpegs: images, fps: rtspFps });
        await stream.start();
        cleanup.unshift(() => (stream as RtspServer).kill());
      }
      const ids = Array.from({ length: c.cameras }, (_, i) => `cam${i + 1}`);
      const inbox = (id: string) => join(caseDir, id);
      for (const id of ids) await mkdir(inbox(id));
      if (c.path === 'replay') {
        // each camera replays its own copy of its share of the files
        for (const [i, id] of ids.entries()) {
          for (const [k, jpeg] of jpegs.entries()) if (k % c.cameras === i) await writeFile(join(inbox(id), `f${String(k).padStart(4, '0')}.jpg`), jpeg);
        }
      }
      const intervalMs = Math.max(1, Math.floor((1000 / OFFERED_FPS) * c.cameras));
      const configPath = await writeInspectorConfig(caseDir, {
        thingName: 'bench',
        logging: { level: 'warn' },
        inference: { endpoint: `unix://${socket}`, modelComponent: 'noop-model' },
        decide: { scoreThreshold: 0 },
        cameras: ids.map((id) => ({
          id,
          source:
            c.path === 'rtsp'
              ? { type: 'rtsp', url: (stream as RtspServer).url, fps: rtspFps }
              : { type: 'folder', path: inbox(id), ...(c.path === 'replay' ? { replay: true, intervalMs } : {}) },
          preprocess: MODEL,
        })),
        publish: {
          cloud: 'mqtt',
          local: 'mqtt',
          mqtt: { host: broker.host, port: broker.port, clientId: `bench-cloud-${n}` },
          localMqtt: { host: broker.host, port: broker.port, clientId: `bench-local-${n}` },
        },
        outbox: { path: join(caseDir, 'outbox.sqlite') },
        masks: { dir: join(caseDir, 'masks') },
        evidence: { dir: join(caseDir, 'evidence') },
        status: { enabled: false },
      });
      // the baseline with nothing else of ours running (a replaying camera never idles); again after
      // each folder burst and once the replaying inspector stopped: the machine's load comes and goes
      const bases = [await sharpRate(jpegs, CORES)];
      const inspector = startInspectorProcess(configPath, [], undefined, runEnv);
      const alive = () =>
        inspector.child.exitCode !== null || server.child.exitCode !== null ? `a process exited: ${JSON.stringify(inspector.recent.slice(-5))} ${server.stderr().slice(-500)}` : undefined;
      const rates: number[] = [];
      const latencies: number[] = [];
      /** Median stage times (ms) of each round's verdicts. */
      const stages: string[] = [];
      const cpu = { inspector: 0, server: 0, inspectorMain: 0, serverMain: 0, children: 0, frames: 0 };
      const measure = async <T>(work: () => Promise<T>): Promise<T> => {
        const [ip, sp] = [inspector.pid, server.child.pid];
        const [i0, s0, im0, sm0, k0] = [cpuMs(ip), cpuMs(sp), cpuMs(ip, ip), cpuMs(sp, sp), childrenCpuMs(ip)];
        const out = await work();
        cpu.inspector += cpuMs(ip) - i0;
        cpu.server += cpuMs(sp) - s0;
        // the main thread (JavaScript) apart from the others (libuv's pool: sharp/libvips, fs; GC helpers)
        cpu.inspectorMain += cpuMs(ip, ip) - im0;
        cpu.serverMain += cpuMs(sp, sp) - sm0;
        cpu.children += childrenCpuMs(ip) - k0;
        return out;
      };
      let note = c.path === 'rtsp' ? `one 1920x1080 stream at ${rtspFps} fps read by each camera` : `one frame offered every ${intervalMs} ms per camera`;
      try {
        watch.reset();
        if (c.path === 'folder') {
          // warm-up: one file per camera through the whole path (model loaded, connections up, JIT)
          const staged = join(caseDir, 'staged');
          await mkdir(staged);
          for (const id of ids) await writeFile(join(inbox(id), 'warm-up.jpg'), jpegs[0] as Buffer);
          await waitUntil(() => watch.verdicts.length >= ids.length, 'the warm-up verdicts', 180_000, alive);
          let moved = 0;
          for (let round = 0; round < ROUNDS; round++) {
            watch.reset();
            // stage every file next to the inboxes, then rename them all in at once
            const names: Array<{ from: string; to: string }> = [];
            for (const [k, jpeg] of jpegs.entries()) {
              const name = `r${round}-f${String(k).padStart(4, '0')}.jpg`;
              await writeFile(join(staged, name), jpeg);
              names.push({ from: join(staged, name), to: join(inbox(ids[k % c.cameras] as string), name) });
            }
            await measure(async () => {
              for (const { from, to } of names) await rename(from, to);
              await waitUntil(() => watch.verdicts.length >= FRAMES, `${FRAMES} verdicts`, 300_000, alive);
            });
            const first = watch.verdicts[0]?.at ?? 0;
            const last = watch.verdicts[watch.verdicts.length - 1]?.at ?? 0;
            rates.push((FRAMES - 1) / ((last - first) / 1000));
            latencies.push(...watch.rejectLatency.values());
            stages.push(watch.stages());
            cpu.frames += FRAMES;
            const count = async () => {
              moved = 0;
              for (const id of ids) moved += (await readdir(join(inbox(id), 'processed')).catch(() => [])).length;
              return moved - ids.length;
            };
            for (const deadline = Date.now() + 30_000; (await count()) < FRAMES * (round + 1) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
            bases.push(await sharpRate(jpegs, CORES));
          }
          note = `${ROUNDS} bursts of ${FRAMES} files; ${moved - ids.length} of ${ROUNDS * FRAMES} in processed/`;
        } else {
          await waitUntil(() => watch.verdicts.length >= 10 * ids.length, 'the warm-up verdicts', 180_000, alive);
          await new Promise((r) => setTimeout(r, 1_000));
          for (let round = 0; round < ROUNDS; round++) {
            watch.reset();
            const t0 = performance.timeOrigin + performance.now();
            await measure(() => new Promise((r) => setTimeout(r, REPLAY_SECONDS * 1000)));
            const t1 = performance.timeOrigin + performance.now();
            const counted = watch.verdicts.filter((v) => v.at >= t0 && v.at <= t1).length;
            if (alive()) throw new Error(alive());
            rates.push(counted / ((t1 - t0) / 1000));
            latencies.push(...watch.rejectLatency.values());
            stages.push(watch.stages());
            cpu.frames += counted;
          }
        }
      } finally {
        await inspector.stop();
      }
      await stream?.kill();
      if (c.path !== 'folder') bases.push(await sharpRate(jpegs, CORES));
      process.stderr.write(`throughput: ${c.path}:${c.cameras} median stage times (ms) by round: ${stages.map((t) => `[${t}]`).join(' ')}\n`);
      report(results, c, median(rates), { rate: median(bases.map((b) => b.rate)), cpuMs: median(bases.map((b) => b.cpuMs)) }, latencies, cpu, note);
    }
    results.push({ name: `sharp decode+resize alone, one image at a time (${FRAMES} files)`, value: (await sharpRate(jpegs, 1)).rate, unit: 'frames/s' });
  } finally {
    for (const step of cleanup) await step().catch(() => undefined);
  }
  return results;
}

interface CpuTotals {
  readonly inspector: number;
  readonly server: number;
  readonly inspectorMain: number;
  readonly serverMain: number;
  /** The inspector's child processes (ffmpeg of RTSP cameras); not in `inspector`. */
  readonly children: number;
  readonly frames: number;
}

/**
 * One case's rows. The CPU row's ratio is the case's ceiling: the frames/s it would reach with every core busy with
 * nothing but its frames (cores ÷ its CPU per frame: the inspector's, its ffmpeg children's and the model server's),
 * over sharp's frames/s. Sharp alone does not keep every core busy either; its share of the cores is printed.
 */
function report(results: BenchResult[], c: Case, fps: number, base: SharpRun, latencies: number[], cpu: CpuTotals, note: string): void {
  const label = `${c.path}, ${c.cameras} camera${c.cameras > 1 ? 's' : ''}`;
  const [inspector, server] = [cpu.inspector / cpu.frames, cpu.server / cpu.frames];
  const [inspectorMain, serverMain] = [cpu.inspectorMain / cpu.frames, cpu.serverMain / cpu.frames];
  const children = cpu.children / cpu.frames;
  const ours = inspector + server + children;
  const ceiling = (CORES * 1000) / ours / base.rate;
  const threads =
    `inspector main ${inspectorMain.toFixed(1)} + other threads ${(inspector - inspectorMain).toFixed(1)}, model server main ${serverMain.toFixed(1)} + other ${(server - serverMain).toFixed(1)}` +
    (children > 0 ? `; the inspector's ffmpeg children ${children.toFixed(1)} more` : '');
  process.stderr.write(
    `throughput: ${label}: ${fps.toFixed(1)} frames/s, sharp ${base.rate.toFixed(1)}, p99 reject ${percentile(latencies, 99).toFixed(0)} ms, ` +
      `CPU ${(inspector + server).toFixed(1)} ms/frame, ceiling ${ceiling.toFixed(2)}, cores busy ${busy(fps, ours)} (sharp: ${base.cpuMs.toFixed(1)} ms/frame, ${busy(base.rate, base.cpuMs)}) ` +
      `(${threads}) (${note})\n`,
  );
  results.push({
    name: `${label}: frames/s, median of ${ROUNDS} (${note})`,
    value: fps,
    unit: 'frames/s',
    baseline: { name: `sharp decode+resize, ${CORES} in flight (median)`, value: base.rate },
    ratio: fps / base.rate,
    target: '≥ 0.90',
  });
  results.push({ name: `${label}: frame → reject p50 / p99 (${latencies.length} rejects)`, value: percentile(latencies, 50), unit: `ms (p99 ${percentile(latencies, 99).toFixed(0)} ms)` });
  results.push({
    name: `${label}: CPU per frame, inspector ${inspector.toFixed(1)} ms + model server ${server.toFixed(1)} ms (${threads}); ratio = the ceiling`,
    value: ours,
    unit: `ms (cores busy: ours ${busy(fps, ours)}, sharp's ${busy(base.rate, base.cpuMs)} at ${base.cpuMs.toFixed(1)} ms a frame)`,
    ratio: ceiling,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(r);
}
