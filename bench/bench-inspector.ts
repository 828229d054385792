/**
 * The inspector the pipeline and PLC benches measure, built as main.ts builds it but with in-memory
 * cameras (the same JPEG every capture: the pipeline is the only cost) and a zero-cost model: the noop
 * runtime behind our `serve-model` command in its own process, as deployed, over the real Edge Agent
 * protocol.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import type { Frame } from '../src/core/frame.js';
import { createLogger } from '../src/core/log.js';
import { createEdgeAgentRpc } from '../src/inference/adapters/grpc-channel.js';
import { EdgeAgentClient } from '../src/inference/edge-agent-client.js';
import { MaskStore } from '../src/masks/mask-store.js';
import { sharpMaskImages } from '../src/masks/adapters/sharp-mask-images.js';
import { SqliteOutbox } from '../src/outbox/adapters/sqlite-outbox.js';
import { createSharpPreviewRenderer } from '../src/pipeline/adapters/sharp-preview.js';
import { Inspector } from '../src/pipeline/inspector.js';
import { ModelSupervisor } from '../src/pipeline/model-supervisor.js';
import type { VerdictSink } from '../src/pipeline/ports.js';
import { createPreprocessor } from '../src/preprocess/create-preprocessor.js';
import { Delivery } from '../src/publish/delivery.js';
import { Topics } from '../src/publish/topics.js';
import type { FrameSource } from '../src/sources/frame-source.js';

/** An in-memory camera: capture() hands out the same JPEG. */
function memoryCamera(cameraId: string, jpeg: Buffer): FrameSource {
  let seq = 0;
  return {
    cameraId,
    async start() {},
    async stop() {},
    capture: async (partId?: string): Promise<Frame> => ({
      id: `${cameraId}-${Date.now()}-${seq++}`,
      cameraId,
      capturedAt: Date.now(),
      data: { kind: 'encoded', bytes: jpeg },
      ...(partId ? { partId } : {}),
    }),
    health: () => ({ state: 'streaming', fps: 0, framesTotal: seq, framesDropped: 0, reconnectsLastHour: 0, stallsLastHour: 0, grade: 'good' }),
  };
}

/** `lookout-edge serve-model` in a child process, serving the noop model on `dir`/agent.sock. */
async function startModelServer(dir: string, input: { width: number; height: number }): Promise<{ pid: number | undefined; exited: Promise<void>; stop(): Promise<void> }> {
  const modelDir = join(dir, 'models', 'noop-model');
  await mkdir(modelDir, { recursive: true });
  const manifest = { formatVersion: 1, runtime: 'noop', name: 'noop', version: '1', input, threshold: 0.5, classes: [] };
  await writeFile(join(modelDir, 'manifest.json'), JSON.stringify(manifest));
  const cli = new URL('../src/cli/bin.ts', import.meta.url).pathname;
  const args = ['--import', 'tsx', cli, 'serve-model', '--log-level', 'warn', '--set', `modelServer.socket=${join(dir, 'agent.sock')}`, '--set', `modelServer.modelsDir=${join(dir, 'models')}`];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid,
    exited,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The validated configuration of a bench inspector in `dir`; `values` add cameras, decide, plc. */
export function benchConfig(dir: string, values: Record<string, unknown>): Readonly<Config> {
  return loadConfig([
    {
      source: 'bench',
      values: {
        inference: { endpoint: `unix://${join(dir, 'agent.sock')}`, modelComponent: 'noop-model' },
        modelServer: { socket: join(dir, 'agent.sock') },
        outbox: { path: join(dir, 'outbox.sqlite') },
        masks: { dir: join(dir, 'masks') },
        ...values,
      },
    },
  ]);
}

export interface BenchInspectorOptions {
  /** The directory of benchConfig(): it holds the socket, the model, the outbox and the masks; the caller removes it. */
  readonly dir: string;
  readonly config: Readonly<Config>;
  readonly jpeg: Buffer;
  /** The noop model's input size. */
  readonly model: { readonly width: number; readonly height: number };
  /** Sinks ahead of the outbox delivery (the PLC's). */
  readonly sinks?: readonly VerdictSink[];
}

export interface BenchInspector {
  readonly inspector: Inspector;
  /** The model server's process, for its CPU time. */
  readonly serverPid: number | undefined;
  /** Stops the inspector, its client, the model server, the mask store and the outbox. */
  stop(): Promise<void>;
}

/** Resolves once the model is running; a model server that fails to start rejects instead of hanging. */
export async function startBenchInspector(o: BenchInspectorOptions): Promise<BenchInspector> {
  const { config } = o;
  const log = createLogger('silent');
  const server = await startModelServer(o.dir, o.model);
  const outbox = new SqliteOutbox({ config: config.outbox, log });
  await outbox.start();
  const masks = new MaskStore({ config: config.masks, log, images: sharpMaskImages });
  await masks.start();
  const client = new EdgeAgentClient({ connect: createEdgeAgentRpc, config: config.inference, log });
  await client.start();
  const model = new ModelSupervisor({ client, config: config.inference, log });
  const delivery = new Delivery({ outbox, topics: new Topics('lookout', 'bench'), payload: { thingName: 'bench', maxInlineMaskBytes: 65536 }, log });
  const inspector = new Inspector({
    thingName: 'bench',
    cameras: config.cameras,
    decideRules: config.decide,
    createSource: (camera) => memoryCamera(camera.id, o.jpeg),
    createPreprocessor: (camera) => createPreprocessor(camera.preprocess),
    inference: client,
    model,
    masks,
    previews: createSharpPreviewRenderer(),
    sinks: [...(o.sinks ?? []), delivery],
    outboxStats: () => outbox.stats(),
    log,
  });
  await inspector.start();
  await Promise.race([model.ensure(), server.exited.then(() => Promise.reject(new Error('the model server exited before its model was running')))]);
  return {
    inspector,
    serverPid: server.pid,
    async stop() {
      await inspector.stop();
      await client.stop();
      await server.stop();
      await masks.stop();
      await outbox.stop();
    },
  };
}
