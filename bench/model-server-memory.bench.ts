/**
 * Memory of the model server under a flood of large images (issue 17, item 5): eight 4096x4096 inline
 * DetectAnomalies calls from two client connections at once (and sixteen from four), while a
 * well-behaved client sends a 640x480 image every 50 ms. Every call reserves the largest request under
 * queueBytes before its request is read (waiting, unread, while there is no room), then keeps its bitmap's bytes. The server and the flooding clients run in
 * child processes of their own; the server's RSS is what is measured (VmHWM, the kernel's peak, reset
 * after warm-up), with the default budget (queueBytes 256 MiB, connectionCalls 4) and with the old
 * behaviour as baseline (a budget no flood reaches, 1000 calls per connection). The model takes 150 ms
 * on a 4096x4096 image (a real one takes longer) and its share by pixels on smaller ones.
 *
 *   npx tsx bench/model-server-memory.bench.ts
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { modelServerSchema } from '../src/config/slices/model-server.js';
import { createLogger } from '../src/core/log.js';
import { edgeAgentServiceDefinition, MAX_MESSAGE_BYTES } from '../src/edge-agent/adapters/edge-agent-proto.js';
import { createGrpcEdgeAgentServer } from '../src/model-server/adapters/grpc-server.js';
import { EdgeAgentServer } from '../src/model-server/edge-agent-server.js';
import type { ModelRuntime } from '../src/model-server/runtime.js';
import type { BenchResult } from './types.js';

/** Inference time of a 4096x4096 image; smaller ones take their share by pixels (640x480: 3 ms). */
const INFER_MS_4096 = 150;
const SIDE = 4096;
/** The issue's eight images from two connections, and twice as many from four. */
const FLOODS = [
  { connections: 2, callsEach: 4 },
  { connections: 4, callsEach: 4 },
];
type Flood = (typeof FLOODS)[number];
const POLITE = { width: 640, height: 480, everyMs: 50 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Looks at every 4096th byte (as a resize would touch the image) and takes its share of INFER_MS_4096. */
const slowRuntime: ModelRuntime = {
  kind: 'bench-slow',
  async load(_dir, manifest) {
    return {
      manifest,
      async infer(image) {
        let sum = 0;
        for (let i = 0; i < image.pixels.length; i += 4096) sum += image.pixels[i] ?? 0;
        await sleep(Math.max(1, (INFER_MS_4096 * image.width * image.height) / (SIDE * SIDE)));
        return { isAnomalous: false, confidence: 1, anomalyScore: sum * 0, anomalyThreshold: manifest.threshold, anomalies: [] };
      },
      async unload() {},
    };
  },
};

// ---- the child: the model server alone in its process; answers `stats` and `reset` on stdin ----

async function procStatusKb(field: string): Promise<number> {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(await readFile('/proc/self/status', 'utf8'));
  return Number(m?.[1] ?? 0);
}

async function serveChild(options: { socket: string; queueBytes: number; connectionCalls: number }): Promise<void> {
  const config = modelServerSchema.parse({ socket: options.socket, queueBytes: options.queueBytes, connectionCalls: options.connectionCalls });
  const manifest = { formatVersion: 1 as const, runtime: 'bench-slow', name: 'bench', version: '1', input: { width: 64, height: 64 }, threshold: 0.5, classes: [] };
  const server = new EdgeAgentServer({ config, log: createLogger('silent'), createRpcServer: createGrpcEdgeAgentServer, entries: [{ component: 'm', dir: tmpdir(), manifest, runtime: slowRuntime }] });
  await server.start();
  const gc = (globalThis as { gc?: () => void }).gc;
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'reset') await writeFile('/proc/self/clear_refs', '5'); // resets VmHWM to the current RSS
    gc?.();
    const { heapUsed, external } = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ rssKb: await procStatusKb('VmRSS'), peakKb: await procStatusKb('VmHWM'), jsKb: (heapUsed + external) / 1024, ...server.stats() })}\n`);
  }
  await server.stop('bench');
}

/** The flooding clients, in a process of their own (serializing 48 MiB messages would stall the well-behaved client's event loop). */
async function floodChild(address: string, flood: Flood): Promise<void> {
  const flooders = Array.from({ length: flood.connections }, () => connect(address));
  for (const f of flooders) await f.detect(64, 64, new Uint8Array(64 * 64 * 3), 10_000); // connected
  process.stdout.write('ready\n');
  for await (const _go of createInterface({ input: process.stdin })) break;
  const big = new Uint8Array(SIDE * SIDE * 3).fill(7);
  const codes = await Promise.all(flooders.flatMap((f) => Array.from({ length: flood.callsEach }, () => f.detect(SIDE, SIDE, big, 60_000))));
  process.stdout.write(`${JSON.stringify(codes)}\n`);
  for (const f of flooders) f.close();
}

if (process.argv[2] === '--serve') {
  await serveChild(JSON.parse(process.argv[3] as string) as Parameters<typeof serveChild>[0]);
  process.exit(0);
}
if (process.argv[2] === '--flood') {
  await floodChild(process.argv[3] as string, JSON.parse(process.argv[4] as string) as Flood);
  process.exit(0);
}

// ---- the parent: clients, and the figures ----

interface ChildStats {
  rssKb: number;
  peakKb: number;
  /** V8 heap in use plus external (ArrayBuffer) memory: what the garbage collector knows of. */
  jsKb: number;
  overBudget: number;
  reservedBytes: number;
  /** The most bytes reserved and being read at once (admission's own count; never above queueBytes). */
  peakBytes: number;
}

/** This file in a child process (`--serve` or `--flood`), spoken to one line at a time. */
class ChildProcessLines {
  private readonly lines: AsyncIterator<string>;
  private readonly child: ChildProcess;
  constructor(args: string[]) {
    this.child = spawn(process.execPath, [...process.execArgv, '--expose-gc', fileURLToPath(import.meta.url), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  async read(): Promise<string> {
    const next = await this.lines.next();
    if (next.done) throw new Error('the child process ended');
    return next.value;
  }

  async ask(command: string): Promise<string> {
    this.child.stdin!.write(`${command}\n`);
    return this.read();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    await exited;
  }
}

type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void) => void;

/** A client on a connection of its own, as a client in another process has. */
function connect(address: string): { detect: (width: number, height: number, pixels: Uint8Array, deadlineMs: number) => Promise<grpc.status>; close: () => void } {
  const Client = grpc.makeGenericClientConstructor(edgeAgentServiceDefinition(), 'EdgeAgent');
  const client = new Client(address, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.use_local_subchannel_pool': 1,
  });
  const detect = (width: number, height: number, pixels: Uint8Array, deadlineMs: number) =>
    new Promise<grpc.status>((resolve) => {
      const req = { model_component: 'm', bitmap: { width, height, byte_data: pixels } };
      (client as unknown as Record<string, Unary>).DetectAnomalies!.call(client, req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err) => resolve(err ? err.code : grpc.status.OK));
    });
  return { detect, close: () => client.close() };
}

interface Outcome {
  baselineMb: number;
  peakOverMb: number;
  afterOverMb: number;
  afterJsMb: number;
  floodOk: number;
  /** Refused RESOURCE_EXHAUSTED: over the byte budget, or the count-bounded queue was full. */
  floodRefused: number;
  overBudget: number;
  politeOk: number;
  politeTotal: number;
  politeMaxMs: number;
  admissionPeakMb: number;
}

async function measure(dir: string, label: string, flood: Flood, queueBytes: number, connectionCalls: number): Promise<Outcome> {
  const socket = join(dir, `${label}.sock`);
  const server = new ChildProcessLines(['--serve', JSON.stringify({ socket, queueBytes, connectionCalls })]);
  const stats = async (command: 'stats' | 'reset') => JSON.parse(await server.ask(command)) as ChildStats;
  await stats('stats'); // answered once the server listens
  const address = `unix://${socket}`;
  const polite = connect(address);
  const flooder = new ChildProcessLines(['--flood', address, JSON.stringify(flood)]);
  try {
    const small = new Uint8Array(POLITE.width * POLITE.height * 3).fill(7);
    for (let i = 0; i < 10; i++) await polite.detect(POLITE.width, POLITE.height, small, 10_000); // warm-up
    await flooder.read(); // connected
    const baseline = await stats('reset');

    let flooding = true;
    const latencies: number[] = [];
    let politeOk = 0;
    const politeLoop = (async () => {
      const pending: Array<Promise<void>> = [];
      while (flooding) {
        const t0 = performance.now();
        pending.push(
          polite.detect(POLITE.width, POLITE.height, small, 5_000).then((code) => {
            latencies.push(performance.now() - t0);
            if (code === grpc.status.OK) politeOk++;
          }),
        );
        await sleep(POLITE.everyMs);
      }
      await Promise.all(pending);
    })();
    const codes = JSON.parse(await flooder.ask('go')) as grpc.status[];
    flooding = false;
    await politeLoop;
    const after = await stats('stats');
    return {
      baselineMb: baseline.rssKb / 1024,
      peakOverMb: (after.peakKb - baseline.rssKb) / 1024,
      afterOverMb: (after.rssKb - baseline.rssKb) / 1024,
      afterJsMb: after.jsKb / 1024,
      floodOk: codes.filter((c) => c === grpc.status.OK).length,
      floodRefused: codes.filter((c) => c === grpc.status.RESOURCE_EXHAUSTED).length,
      overBudget: after.overBudget,
      politeOk,
      politeTotal: latencies.length,
      politeMaxMs: Math.max(...latencies),
      admissionPeakMb: after.peakBytes / 1024 / 1024,
    };
  } finally {
    polite.close();
    await flooder.stop();
    await server.stop();
  }
}

export async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'le-bench-mem-'));
  const defaults = modelServerSchema.parse({});
  const base = 'no budget (old behaviour)';
  const results: BenchResult[] = [];
  try {
    for (const [i, flood] of FLOODS.entries()) {
      const old = await measure(dir, `old-${i}`, flood, Number.MAX_SAFE_INTEGER, 1_000);
      const now = await measure(dir, `budget-${i}`, flood, defaults.queueBytes, defaults.connectionCalls);
      const calls = flood.connections * flood.callsEach;
      const what = `${calls} x ${SIDE}x${SIDE} inline from ${flood.connections} connections`;
      results.push(
        { name: `${what}: model server peak RSS over idle (${now.baselineMb.toFixed(0)} MB)`, value: now.peakOverMb, unit: 'MB', baseline: { name: base, value: old.peakOverMb }, ratio: now.peakOverMb / old.peakOverMb },
        { name: `${what}: RSS over idle once answered (after GC; JS heap + external: ${now.afterJsMb.toFixed(0)} MB)`, value: now.afterOverMb, unit: 'MB', baseline: { name: base, value: old.afterOverMb } },
        {
          name: `${what}: flood calls answered OK (budget: ${now.floodRefused} refused, ${now.overBudget} of them for want of bytes; old: ${old.floodRefused} refused)`,
          value: now.floodOk,
          unit: `of ${calls}`,
          baseline: { name: base, value: old.floodOk },
        },
        {
          name: `${what}: share of a well-behaved client's ${POLITE.width}x${POLITE.height} calls answered OK (one every ${POLITE.everyMs} ms, 5 s deadline; ${now.politeTotal} calls, old: ${old.politeTotal})`,
          value: now.politeOk / now.politeTotal,
          unit: '',
          baseline: { name: base, value: old.politeOk / old.politeTotal },
        },
        { name: `${what}: well-behaved client's slowest call`, value: now.politeMaxMs, unit: 'ms', baseline: { name: base, value: old.politeMaxMs }, ratio: now.politeMaxMs / old.politeMaxMs },
        {
          name: `${what}: most bytes held at once by calls being read (the largest request each) and queued or running (their bitmaps), by the admission's count`,
          value: now.admissionPeakMb,
          unit: 'MiB',
          baseline: { name: base, value: old.admissionPeakMb },
          target: `<= queueBytes (${defaults.queueBytes / 1024 / 1024} MiB)`,
        },
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) console.log(`${r.name}: ${r.value.toFixed(1)} ${r.unit}; ${r.baseline?.name}: ${r.baseline?.value.toFixed(1)}${r.ratio !== undefined ? `; ratio ${r.ratio.toFixed(2)}` : ''}`);
}
