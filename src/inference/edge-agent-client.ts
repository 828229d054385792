import type { InferenceConfig } from '../config/schema.js';
import { LookoutError, isLookoutError } from '../core/errors.js';
import { MAX_SIDE, MIN_SIDE, type RgbImage, rgbByteLength } from '../core/image.js';
import type { Logger } from '../core/log.js';
import type { DetectResult, ModelInfo, ModelStatus } from '../core/model.js';
import { resolveUserId } from '../system/local-accounts.js';
import type { ConnectEdgeAgent, EdgeAgentRpc } from './edge-agent-rpc.js';
import { checkAgentSocket, unixSocketPath } from './agent-socket.js';
import type { WireBitmap, WireDetectAnomaliesRequest } from '../edge-agent/edge-agent-wire.js';
import type { DetectOptions, InferenceClient } from './inference-client.js';
import { ensureModelRunning } from './model-lifecycle.js';
import { withRetry } from './retry.js';
import { alignUp, ShmPool, type ShmLease } from './shm-pool.js';
import { toDetectResult, toModelInfo } from './wire-result.js';

export interface EdgeAgentClientDeps {
  readonly config: InferenceConfig;
  readonly log: Logger;
  /** Where shm_open names live. Default /dev/shm. */
  readonly shmDir?: string;
  /** Shared-memory calls in flight at once (one segment each); more go inline. Default 4. */
  readonly maxShmSegments?: number;
  /** On MODEL_NOT_RUNNING during detect, run ensureRunning once and try again. Default true. */
  readonly autoStart?: boolean;
  /** Opens the channel in start() (the composition root passes the grpc-js one, adapters/grpc-channel.ts). */
  readonly connect: ConnectEdgeAgent;
}

export interface EdgeAgentClientStats {
  calls: number;
  shmCalls: number;
  inlineCalls: number;
  /** Calls that went inline because every segment was busy. */
  poolExhausted: number;
  retries: number;
  /** Masks that came back inline although we asked for shared memory. */
  inlineMasks: number;
  /** Shared memory was given up because the agent could not read our segments (auto mode). */
  shmDisabled: boolean;
  failures: Record<string, number>;
}

const RETRYABLE_CALL = new Set(['INFERENCE_UNAVAILABLE', 'INFERENCE_OVERLOADED']);

/**
 * InferenceClient over the Lookout for Vision Edge Agent protocol (AWS's agent or ours).
 * One long-lived channel; per-call deadlines; UNAVAILABLE and RESOURCE_EXHAUSTED retried with capped
 * exponential backoff; the image travels through POSIX shared memory when possible, inline otherwise.
 */
export class EdgeAgentClient implements InferenceClient {
  private rpc: EdgeAgentRpc | undefined;
  private pool: ShmPool | undefined;
  private readonly abort = new AbortController();
  private readonly ensuring = new Map<string, Promise<ModelInfo>>();
  private readonly counters: EdgeAgentClientStats = { calls: 0, shmCalls: 0, inlineCalls: 0, poolExhausted: 0, retries: 0, inlineMasks: 0, shmDisabled: false, failures: {} };

  constructor(private readonly deps: EdgeAgentClientDeps) {}

  /** Which transport carries images: decided in start(). */
  get transport(): 'shm' | 'inline' {
    return this.pool ? 'shm' : 'inline';
  }

  async start(): Promise<void> {
    const { config, log } = this.deps;
    const endpoint = config.endpoint;
    if (endpoint === undefined) throw new LookoutError('INTERNAL', 'inference.endpoint is not set (the environment layer sets its default)');
    this.rpc = this.deps.connect(endpoint, await this.socketCheck(endpoint));
    const dir = this.deps.shmDir;
    if (config.transport === 'shm' || (config.transport === 'auto' && endpoint.startsWith('unix:'))) {
      if (ShmPool.probe(dir)) {
        this.pool = new ShmPool({ dir, maxSegments: this.deps.maxShmSegments ?? 4 });
      } else if (config.transport === 'shm') {
        throw new LookoutError('SHM_UNAVAILABLE', `inference.transport is shm but ${dir ?? '/dev/shm'} is not writable`);
      } else {
        log.warn({ dir: dir ?? '/dev/shm' }, 'shared memory unavailable; sending images inline');
      }
    }
    log.info({ endpoint: config.endpoint, transport: this.transport }, 'edge agent client ready');
  }

  /** For a unix: endpoint, the check that the socket is ours, root's or inference.socketOwner's (agent-socket.ts). */
  private async socketCheck(endpoint: string): Promise<{ beforeCall?: () => void }> {
    const path = unixSocketPath(endpoint);
    if (path === undefined) return {};
    const { socketOwner } = this.deps.config;
    const owners = new Set([process.getuid?.() ?? 0, 0]);
    if (socketOwner !== undefined) owners.add(await resolveUserId(socketOwner, 'inference.socketOwner'));
    return { beforeCall: () => checkAgentSocket(path, owners) };
  }

  async stop(reason = 'stop'): Promise<void> {
    this.abort.abort();
    this.rpc?.close();
    this.rpc = undefined;
    await this.pool?.close();
    this.pool = undefined;
    this.deps.log.info({ reason }, 'edge agent client stopped');
  }

  stats(): Readonly<EdgeAgentClientStats> {
    return { ...this.counters, failures: { ...this.counters.failures } };
  }

  private channel(): EdgeAgentRpc {
    if (!this.rpc) throw new LookoutError('INFERENCE_UNAVAILABLE', 'edge agent client is not started', { retryable: false });
    return this.rpc;
  }

  private retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const { retry } = this.deps.config;
    return withRetry(
      retry,
      {
        shouldRetry: (err) => RETRYABLE_CALL.has(err.code),
        onRetry: (err, n, delayMs) => {
          this.counters.retries++;
          this.deps.log.debug({ what, code: err.code, retry: n, delayMs }, 'retrying edge agent call');
        },
        signal: this.abort.signal,
      },
      fn,
    ).catch((err: unknown) => {
      const code = isLookoutError(err) ? err.code : 'INTERNAL';
      this.counters.failures[code] = (this.counters.failures[code] ?? 0) + 1;
      throw err;
    });
  }

  private get deadlineMs(): number {
    return this.deps.config.callTimeoutMs;
  }

  async describe(modelComponent: string): Promise<ModelInfo> {
    const res = await this.retrying('DescribeModel', () => this.channel().describeModel({ model_component: modelComponent }, { deadlineMs: this.deadlineMs }));
    return toModelInfo(res.model_description, modelComponent);
  }

  async list(): Promise<ModelInfo[]> {
    const res = await this.retrying('ListModels', () => this.channel().listModels({ deadlineMs: this.deadlineMs }));
    return (res.models ?? []).map((m) => toModelInfo(m, m.model_component));
  }

  async startModel(modelComponent: string): Promise<ModelStatus> {
    const res = await this.retrying('StartModel', () => this.channel().startModel({ model_component: modelComponent }, { deadlineMs: this.deadlineMs }));
    return res.status as ModelStatus;
  }

  /** StopModel is synchronous on the agent (it waits for running inferences): allowed the start timeout. */
  async stopModel(modelComponent: string): Promise<ModelStatus> {
    const deadlineMs = Math.max(this.deadlineMs, this.deps.config.modelStartTimeoutMs);
    const res = await this.retrying('StopModel', () => this.channel().stopModel({ model_component: modelComponent }, { deadlineMs }));
    return res.status as ModelStatus;
  }

  /** Concurrent callers for one model share one lifecycle run. */
  ensureRunning(modelComponent: string): Promise<ModelInfo> {
    let running = this.ensuring.get(modelComponent);
    if (!running) {
      const { modelStartTimeoutMs, pollIntervalMs } = this.deps.config;
      running = ensureModelRunning({
        component: modelComponent,
        describe: () => this.describe(modelComponent),
        start: () => this.startModel(modelComponent),
        timeoutMs: modelStartTimeoutMs,
        pollIntervalMs,
        signal: this.abort.signal,
        log: this.deps.log,
      }).finally(() => this.ensuring.delete(modelComponent));
      this.ensuring.set(modelComponent, running);
    }
    return running;
  }

  async detect(modelComponent: string, image: RgbImage, options: DetectOptions): Promise<DetectResult> {
    checkImage(image);
    let restarted = false;
    for (;;) {
      try {
        return await this.retrying('DetectAnomalies', () => this.detectVia(modelComponent, image, options));
      } catch (err) {
        if (!restarted && isLookoutError(err, 'MODEL_NOT_RUNNING') && this.deps.autoStart !== false) {
          restarted = true;
          await this.ensureRunning(modelComponent);
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * In `auto` mode an agent that cannot open our segments (another host or a private /dev/shm) answers
   * INVALID_ARGUMENT to a shared-memory call whose image we already checked: try that call inline, and if
   * inline works, stop using shared memory for this agent.
   */
  private async detectVia(modelComponent: string, image: RgbImage, options: DetectOptions): Promise<DetectResult> {
    const viaShm = this.pool !== undefined;
    try {
      return await this.detectOnce(modelComponent, image, options, viaShm);
    } catch (err) {
      if (!viaShm || this.deps.config.transport !== 'auto' || !isLookoutError(err, 'INFERENCE_INVALID_ARGUMENT')) throw err;
      const result = await this.detectOnce(modelComponent, image, options, false);
      if (this.pool) {
        this.deps.log.warn({ err }, 'the agent cannot read our shared memory; sending images inline from now on');
        const pool = this.pool;
        this.pool = undefined;
        this.counters.shmDisabled = true;
        await pool.close();
      }
      return result;
    }
  }

  private async detectOnce(modelComponent: string, image: RgbImage, options: DetectOptions, viaShm: boolean): Promise<DetectResult> {
    this.counters.calls++;
    const { width, height, pixels } = image;
    const length = rgbByteLength(width, height);
    const maskOffset = alignUp(length);
    let lease: ShmLease | undefined;
    if (viaShm && this.pool) {
      lease = await this.pool.acquire(options.wantMask ? maskOffset + length : length);
      if (!lease) this.counters.poolExhausted++;
    }
    try {
      const req: WireDetectAnomaliesRequest = { model_component: modelComponent, bitmap: null };
      if (lease) {
        await lease.segment.write(pixels, 0);
        req.bitmap = { width, height, shared_memory_handle: { name: lease.segment.name, size: length, offset: 0 } };
        if (options.wantMask) req.anomaly_mask_params = { shared_memory_handle: { name: lease.segment.name, size: length, offset: maskOffset } };
        this.counters.shmCalls++;
      } else {
        req.bitmap = { width, height, byte_data: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength) };
        this.counters.inlineCalls++;
      }
      const res = await this.channel().detectAnomalies(req, { deadlineMs: options.deadlineMs ?? this.deadlineMs, wantMask: options.wantMask });
      const result = res.detect_anomaly_result;
      const mask = options.wantMask ? await this.readMask(result?.anomaly_mask, image, lease, maskOffset) : undefined;
      lease?.release();
      return toDetectResult(result, mask);
    } catch (err) {
      lease?.release(true);
      throw err;
    }
  }

  /** The mask inline, or from our segment when the agent wrote it there. */
  private async readMask(mask: WireBitmap | null | undefined, image: RgbImage, lease: ShmLease | undefined, offset: number): Promise<DetectResult['mask']> {
    if (!mask) return undefined;
    const length = rgbByteLength(image.width, image.height);
    if (mask.byte_data && mask.byte_data.length > 0) {
      if (mask.width !== image.width || mask.height !== image.height || mask.byte_data.length !== length) {
        throw new LookoutError('INFERENCE_FAILED', `agent returned a ${mask.width}x${mask.height} mask (${mask.byte_data.length} bytes) for a ${image.width}x${image.height} image`);
      }
      if (lease) this.counters.inlineMasks++;
      return { width: mask.width, height: mask.height, pixels: mask.byte_data };
    }
    if (!lease) return undefined;
    const handle = mask.shared_memory_handle;
    if (handle && handle.name !== lease.segment.name) {
      throw new LookoutError('INFERENCE_FAILED', `agent wrote the mask to a segment we did not offer (${handle.name})`);
    }
    const at = handle ? handle.offset : offset;
    return { width: image.width, height: image.height, pixels: await lease.segment.read(length, at) };
  }
}

function checkImage(image: RgbImage): void {
  const { width, height, pixels } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < MIN_SIDE || height < MIN_SIDE || width > MAX_SIDE || height > MAX_SIDE) {
    throw new LookoutError('INFERENCE_INVALID_ARGUMENT', `image ${width}x${height} is outside ${MIN_SIDE}..${MAX_SIDE} per side`);
  }
  if (pixels.length !== rgbByteLength(width, height)) {
    throw new LookoutError('INFERENCE_INVALID_ARGUMENT', `image has ${pixels.length} bytes, expected width*height*3 = ${rgbByteLength(width, height)}`);
  }
}
