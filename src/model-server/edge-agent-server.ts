import { mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ModelServerConfig } from '../config/schema.js';
import { LookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ModelInfo } from '../core/model.js';
import { GrpcEdgeAgentServer } from './adapters/grpc-server.js';
import { BoundedExecutor, type ExecutorStats } from './bounded-executor.js';
import { EdgeAgentService } from './edge-agent-service.js';
import type { ModelEntry } from './model-entries.js';
import { ModelSlot } from './model-slot.js';
import { DEFAULT_SHM_DIR } from './shm-access.js';
import { removeStaleSocket, secureSocket } from './unix-socket.js';

export interface EdgeAgentServerDeps {
  readonly config: ModelServerConfig;
  readonly entries: readonly ModelEntry[];
  readonly log: Logger;
  /** Listen on `host:port` (TCP, port 0 picks one) instead of the configured Unix socket. */
  readonly tcpAddress?: string;
  /** Where shm_open names live (Linux: /dev/shm). */
  readonly shmDir?: string;
  /** How long stop() lets running calls finish before cutting them. Default 10 s. */
  readonly shutdownGraceMs?: number;
}

/**
 * Our drop-in replacement for AWS's Lookout for Vision Edge Agent: the five RPCs over a Unix socket,
 * several models each with its state machine, one bounded request queue and bounded concurrency.
 */
export class EdgeAgentServer {
  private readonly slots = new Map<string, ModelSlot>();
  private readonly executor: BoundedExecutor;
  private grpc: GrpcEdgeAgentServer | undefined;
  private service: EdgeAgentService | undefined;
  private boundAddress: string | undefined;
  private socketPath: string | undefined;

  constructor(private readonly deps: EdgeAgentServerDeps) {
    for (const entry of deps.entries) {
      if (this.slots.has(entry.component)) throw new LookoutError('CONFIG_INVALID', `model component ${entry.component} is configured twice`);
      this.slots.set(entry.component, new ModelSlot({ entry, log: deps.log }));
    }
    this.executor = new BoundedExecutor({ concurrency: deps.config.concurrency, queueSize: deps.config.queueSize });
  }

  /** The address clients use: `unix:///path.sock` or `host:port`. */
  get address(): string {
    if (!this.boundAddress) throw new LookoutError('INTERNAL', 'server not started');
    return this.boundAddress;
  }

  async start(): Promise<void> {
    const { config, log } = this.deps;
    const service = (this.service = new EdgeAgentService({ slots: this.slots, executor: this.executor, shmDir: this.deps.shmDir ?? DEFAULT_SHM_DIR, inferTimeoutMs: config.inferTimeoutMs, log, readBuffers: config.concurrency + 1 }));
    if (this.deps.tcpAddress) {
      const grpcServer = new GrpcEdgeAgentServer({ address: this.deps.tcpAddress, handlers: service, log });
      const port = await grpcServer.start();
      this.grpc = grpcServer;
      this.boundAddress = this.deps.tcpAddress.replace(/:0$/, `:${port}`);
    } else {
      if (await removeStaleSocket(config.socket)) log.warn({ socket: config.socket }, 'removed a stale socket file');
      // Bind inside a private (0700) directory, set mode and group, then rename into place: the socket
      // never appears at its public path with the process umask's permissions.
      const privateDir = await mkdtemp(join(dirname(config.socket), '.lookout-edge-'));
      const staging = join(privateDir, 'agent.sock');
      try {
        const grpcServer = new GrpcEdgeAgentServer({ address: `unix:${staging}`, handlers: service, log });
        await grpcServer.start();
        this.grpc = grpcServer;
        await secureSocket(staging, config.socketMode, config.socketGroup);
        await rename(staging, config.socket);
        this.socketPath = config.socket;
      } catch (err) {
        await this.grpc?.stop(0);
        this.grpc = undefined;
        throw err;
      } finally {
        await rm(privateDir, { recursive: true, force: true });
      }
      this.boundAddress = `unix://${config.socket}`;
    }
    log.info({ address: this.boundAddress, models: [...this.slots.keys()] }, 'edge agent server listening');
    for (const slot of this.slots.values()) if (slot.entry.startOnBoot !== false) slot.start();
  }

  /** Graceful: refuse new calls, finish running ones, unload the models, remove the socket file. */
  async stop(reason = 'stop'): Promise<void> {
    const grpcServer = this.grpc;
    this.grpc = undefined;
    if (!grpcServer) return;
    this.deps.log.info({ reason }, 'edge agent server stopping');
    const graceMs = this.deps.shutdownGraceMs ?? 10_000;
    await grpcServer.stop(graceMs);
    // A load that hangs must not hang the shutdown: give the models the same grace, then go.
    let timer: NodeJS.Timeout | undefined;
    const unloaded = Promise.all([...this.slots.values()].map((s) => s.shutdown().catch(() => undefined))).then(() => true);
    const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
    if (!(await Promise.race([unloaded, gaveUp]))) this.deps.log.warn({ graceMs }, 'models still loading or unloading at shutdown; leaving them');
    clearTimeout(timer);
    if (this.socketPath) await unlink(this.socketPath).catch(() => undefined);
    this.deps.log.info({ reason }, 'edge agent server stopped');
  }

  models(): ModelInfo[] {
    return [...this.slots.values()].map((s) => s.describe());
  }

  /** Queue figures, plus queued requests skipped because their caller had already given up. */
  stats(): ExecutorStats & { skipped: number } {
    return { ...this.executor.stats(), skipped: this.service?.skipped ?? 0 };
  }
}
