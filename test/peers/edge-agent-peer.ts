import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { modelServerSchema, type ModelServerConfig } from '../../src/config/slices/model-server.js';
import { inferenceSchema, type InferenceConfig } from '../../src/config/slices/inference.js';
import { createLogger } from '../../src/core/log.js';
import type { RgbImage } from '../../src/core/image.js';
import type { DetectResult } from '../../src/core/model.js';
import { createGrpcEdgeAgentServer } from '../../src/model-server/adapters/grpc-server.js';
import { EdgeAgentServer } from '../../src/model-server/edge-agent-server.js';
import type { ModelEntry } from '../../src/model-server/model-entries.js';
import type { LoadedModel, ModelManifest, ModelRuntime } from '../../src/model-server/runtime.js';

/**
 * Real Edge Agent peers for tests: our server on a Unix socket in a temp dir with scripted models, and an
 * independent client built straight from proto/edge-agent.proto with proto-loader's defaults, as AWS's
 * sample clients are.
 */

export const PROTO_PATH = new URL('../../proto/edge-agent.proto', import.meta.url).pathname;
export const silentLog = createLogger('silent');

export function manifest(overrides: Partial<ModelManifest> = {}): ModelManifest {
  return { formatVersion: 1, runtime: 'scripted', name: 'test', version: '1', input: { width: 64, height: 64 }, threshold: 0.5, classes: [], ...overrides };
}

export interface Script {
  loadDelayMs?: number;
  loadError?: Error;
  inferDelayMs?: number;
  /** Infer waits for this before answering (a test holds inferences running as long as it needs). */
  gate?: Promise<void>;
  inferError?: Error;
  /** Paint the mask in the first class's colour over the left half and report the area. */
  segment?: boolean;
  score?: number;
  /** Leave anomaly_score out, as an older agent does. */
  noScore?: boolean;
  /** What the last infer() was asked (set by the runtime). */
  lastWantMask?: boolean;
  /** Counted by load(). */
  loads?: number;
  /** unload() takes this long (a model that frees slowly at shutdown). */
  unloadDelayMs?: number;
  /** Infer started (to synchronise races). */
  onInfer?: () => void;
  unloads?: number;
}

/** A runtime whose behaviour a test scripts: delays, failures, masks. */
export function scriptedRuntime(script: Script): ModelRuntime {
  return {
    kind: 'scripted',
    async load(_dir, m): Promise<LoadedModel> {
      script.loads = (script.loads ?? 0) + 1;
      if (script.loadDelayMs) await new Promise((r) => setTimeout(r, script.loadDelayMs));
      if (script.loadError) throw script.loadError;
      return {
        manifest: m,
        async infer(image: RgbImage, options): Promise<DetectResult> {
          script.onInfer?.();
          script.lastWantMask = options.wantMask;
          if (script.inferDelayMs) await new Promise((r) => setTimeout(r, script.inferDelayMs));
          if (script.gate) await script.gate;
          if (script.inferError) throw script.inferError;
          const score = script.score ?? (image.pixels[0] ?? 0) / 255;
          const isAnomalous = score >= m.threshold;
          const base: DetectResult = {
            isAnomalous,
            confidence: isAnomalous ? score : 1 - score,
            ...(script.noScore ? {} : { anomalyScore: score, anomalyThreshold: m.threshold }),
            anomalies: [],
          };
          const cls = m.classes[0];
          if (!script.segment || !cls) return base;
          const anomalies = [{ name: cls.name, totalPercentageArea: 0.5, hexColor: cls.hexColor }];
          if (!options.wantMask) return { ...base, anomalies };
          const pixels = new Uint8Array(image.width * image.height * 3);
          const rgb = [1, 3, 5].map((i) => parseInt(cls.hexColor.slice(i, i + 2), 16));
          for (let y = 0; y < image.height; y++)
            for (let x = 0; x < image.width / 2; x++) pixels.set(rgb, (y * image.width + x) * 3);
          return { ...base, anomalies, mask: { width: image.width, height: image.height, pixels } };
        },
        async unload() {
          if (script.unloadDelayMs) await new Promise((r) => setTimeout(r, script.unloadDelayMs));
          script.unloads = (script.unloads ?? 0) + 1;
        },
      };
    },
  };
}

export interface TestServer {
  server: EdgeAgentServer;
  dir: string;
  socket: string;
  /** `unix:///…` */
  address: string;
  config: ModelServerConfig;
  stop(): Promise<void>;
}

export interface TestModel {
  component: string;
  script?: Script;
  manifest?: Partial<ModelManifest>;
  startOnBoot?: boolean;
  runtime?: ModelRuntime;
}

export async function tempDir(prefix = 'le-ea-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Our server on a Unix socket in `dir` (a fresh temp dir unless given, e.g. to restart on the same path). */
export async function startServer(models: TestModel[], opts: { dir?: string; config?: Partial<ModelServerConfig>; tcp?: boolean; shutdownGraceMs?: number } = {}): Promise<TestServer> {
  const dir = opts.dir ?? (await tempDir());
  const socket = join(dir, 'agent.sock');
  const config = modelServerSchema.parse({ socket, ...opts.config });
  const entries: ModelEntry[] = models.map((m) => ({
    component: m.component,
    dir,
    manifest: manifest(m.manifest),
    runtime: m.runtime ?? scriptedRuntime(m.script ?? {}),
    startOnBoot: m.startOnBoot ?? true,
    modelArn: `arn:aws:lookoutvision:us-east-1:123456789012:model/${m.component}/1`,
  }));
  const server = new EdgeAgentServer({ config, entries, log: silentLog, createRpcServer: createGrpcEdgeAgentServer, shutdownGraceMs: opts.shutdownGraceMs ?? 2_000, ...(opts.tcp ? { tcpAddress: '127.0.0.1:0' } : {}) });
  await server.start();
  return {
    server,
    dir,
    socket,
    address: server.address,
    config,
    async stop() {
      await server.stop('test');
    },
  };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function clientConfig(address: string, overrides: Partial<InferenceConfig> = {}): InferenceConfig {
  return inferenceSchema.parse({ endpoint: address, callTimeoutMs: 5_000, pollIntervalMs: 20, modelStartTimeoutMs: 5_000, ...overrides });
}

export { waitFor } from '../helpers/wait-for.js';

export function image(width: number, height: number, fill = 0): RgbImage {
  return { width, height, pixels: new Uint8Array(width * height * 3).fill(fill) };
}

// ---- an independent client, straight from the proto file with proto-loader defaults ----

type Callback = (err: grpc.ServiceError | null, res: Record<string, unknown>) => void;
type RawMethod = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback) => void;

export interface RawClient {
  call<T = Record<string, unknown>>(method: string, req: unknown, deadlineMs?: number): Promise<T>;
  close(): void;
}

/**
 * Built the way AWS's sample clients build theirs: loadSync(proto) with the given options (none by
 * default, i.e. camelCase names), loadPackageDefinition, `new AWS.LookoutVision.EdgeAgent(target)`.
 * Clients in one process share a connection unless `channelOptions` ask for their own
 * (`grpc.use_local_subchannel_pool`), as a client in another process has.
 */
export function rawClient(address: string, loaderOptions: protoLoader.Options = {}, channelOptions: grpc.ChannelOptions = {}): RawClient {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, loaderOptions)) as unknown as {
    AWS: { LookoutVision: { EdgeAgent: new (target: string, creds: grpc.ChannelCredentials, options?: object) => grpc.Client } };
  };
  const client = new pkg.AWS.LookoutVision.EdgeAgent(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    ...channelOptions,
  });
  return {
    call<T>(method: string, req: unknown, deadlineMs = 10_000): Promise<T> {
      return new Promise((resolve, reject) => {
        const fn = (client as unknown as Record<string, RawMethod>)[method] as RawMethod;
        fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res as T)));
      });
    },
    close: () => client.close(),
  };
}

/** The gRPC status code a promise rejects with. */
export async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    return (err as grpc.ServiceError).code;
  }
  return grpc.status.OK;
}

export { grpc };
