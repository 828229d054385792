import { lstat, mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ModelServerConfig } from '../config/schema.js';
import { LookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { type ModelInfo, ModelStatus } from '../core/model.js';
import { resolveUserId } from '../system/local-accounts.js';
import { type AdmissionStats, ByteAdmission } from './admission.js';
import { BoundedExecutor, type ExecutorStats } from './bounded-executor.js';
import { type DetectObserver, EdgeAgentService } from './edge-agent-service.js';
import type { ModelEntry } from './model-entries.js';
import { ModelSet, type ModelSetChanges } from './model-set.js';
import type { CreateRpcServer, RpcServer } from './rpc-server.js';
import { DEFAULT_SHM_DIR } from '../edge-agent/shm-names.js';
import { prepareSocketDirectory, removeStaleSocket, secureSocket } from './unix-socket.js';

/** This process's uid and those of modelServer.shmOwners (names resolved through /etc/passwd). */
async function resolveShmOwners(names: readonly string[]): Promise<ReadonlySet<number>> {
  const uids = await Promise.all(names.map((name, i) => resolveUserId(name, `modelServer.shmOwners.${i}`)));
  return new Set([process.getuid?.() ?? 0, ...uids]);
}

export interface EdgeAgentServerDeps {
  readonly config: ModelServerConfig;
  readonly entries: readonly ModelEntry[];
  readonly log: Logger;
  /** Builds the RPC server the five RPCs are served by (the composition root gives the grpc-js one). */
  readonly createRpcServer: CreateRpcServer;
  /** Listen on `host:port` (TCP, port 0 picks one) instead of the configured Unix socket. */
  readonly tcpAddress?: string;
  /** Where shm_open names live (Linux: /dev/shm). */
  readonly shmDir?: string;
  /** How long stop() lets running calls finish before cutting them. Default 10 s. */
  readonly shutdownGraceMs?: number;
  /** How long stop() waits for models to unload after the calls ended. Default: shutdownGraceMs. */
  readonly unloadGraceMs?: number;
  /** Told about every DetectAnomalies call (metrics). */
  readonly observer?: DetectObserver;
}

/**
 * Our drop-in replacement for AWS's Lookout for Vision Edge Agent: the five RPCs over a Unix socket,
 * several models each with its state machine, one request queue bounded by count and by bytes, bounded
 * concurrency, and a bound on the calls one client connection has open.
 */
export class EdgeAgentServer {
  private readonly modelSet: ModelSet;
  private readonly executor: BoundedExecutor;
  private readonly admission: ByteAdmission;
  private grpc: RpcServer | undefined;
  private service: EdgeAgentService | undefined;
  private boundAddress: string | undefined;
  /**
   * The socket file we put in place, and which file it was (a later server may have replaced it): the inode
   * and its change time, since a file system may give a new file the inode number of one just deleted.
   */
  private socketFile: { readonly path: string; readonly id: string } | undefined;

  constructor(private readonly deps: EdgeAgentServerDeps) {
    this.modelSet = new ModelSet({ entries: deps.entries, log: deps.log });
    this.executor = new BoundedExecutor({ concurrency: deps.config.concurrency, queueSize: deps.config.queueSize });
    this.admission = new ByteAdmission(deps.config.queueBytes, deps.config.queueSize);
  }

  private grpcLimits(): { connectionCalls: number; admission: ByteAdmission; readTimeoutMs: number } {
    return { connectionCalls: this.deps.config.connectionCalls, admission: this.admission, readTimeoutMs: this.deps.config.readTimeoutMs };
  }

  /** True from the moment the gRPC server listens until stop() begins. */
  get listening(): boolean {
    return this.grpc !== undefined;
  }

  /** The address clients use: `unix:///path.sock` or `host:port`. */
  get address(): string {
    if (!this.boundAddress) throw new LookoutError('INTERNAL', 'server not started');
    return this.boundAddress;
  }

  async start(): Promise<void> {
    const { config, log } = this.deps;
    const shmOwners = await resolveShmOwners(config.shmOwners);
    const service = (this.service = new EdgeAgentService({
      slots: this.modelSet.slots,
      executor: this.executor,
      admission: this.admission,
      shmDir: this.deps.shmDir ?? DEFAULT_SHM_DIR,
      shmOwners,
      inferTimeoutMs: config.inferTimeoutMs,
      log,
      readBuffers: config.concurrency + 1,
      ...(this.deps.observer ? { observer: this.deps.observer } : {}),
    }));
    if (this.deps.tcpAddress) {
      const grpcServer = this.deps.createRpcServer({ address: this.deps.tcpAddress, handlers: service, log, ...this.grpcLimits() });
      const port = await grpcServer.start();
      this.grpc = grpcServer;
      this.boundAddress = this.deps.tcpAddress.replace(/:0$/, `:${port}`);
    } else {
      const socket = config.socket;
      if (socket === undefined) throw new LookoutError('INTERNAL', 'modelServer.socket is not set (the environment layer sets its default)');
      const uid = process.getuid?.() ?? 0;
      if ((await prepareSocketDirectory(socket, uid)) === 'shared') {
        log.warn({ socket }, 'the socket is in a shared directory: another local user can bind this path before the model server starts (clients check the socket owner)');
      }
      if (await removeStaleSocket(socket, uid)) log.warn({ socket }, 'removed a stale socket file');
      // Bind inside a private (0700) directory, set mode and group, then rename into place: the socket
      // never appears at its public path with the process umask's permissions.
      const privateDir = await mkdtemp(join(dirname(socket), '.lookout-edge-'));
      const staging = join(privateDir, 'agent.sock');
      try {
        const grpcServer = this.deps.createRpcServer({ address: `unix:${staging}`, handlers: service, log, ...this.grpcLimits() });
        await grpcServer.start();
        this.grpc = grpcServer;
        await secureSocket(staging, config.socketMode, config.socketGroup);
        await rename(staging, socket);
        this.socketFile = { path: socket, id: await fileIdentity(socket) };
      } catch (err) {
        await this.grpc?.stop(0);
        this.grpc = undefined;
        throw err;
      } finally {
        await rm(privateDir, { recursive: true, force: true });
      }
      this.boundAddress = `unix://${socket}`;
    }
    log.info({ address: this.boundAddress, models: [...this.modelSet.slots.keys()] }, 'edge agent server listening');
    this.modelSet.startOnBoot();
  }

  /**
   * Graceful, within shutdownGraceMs + unloadGraceMs: refuse new calls, let running ones finish (cut
   * the rest at the grace), unload the models (left behind past their grace), remove the socket file.
   * What was cut is logged.
   */
  async stop(reason = 'stop'): Promise<void> {
    const grpcServer = this.grpc;
    this.grpc = undefined;
    if (!grpcServer) return;
    const { log } = this.deps;
    log.info({ reason }, 'edge agent server stopping');
    const graceMs = this.deps.shutdownGraceMs ?? 10_000;
    const unloadGraceMs = this.deps.unloadGraceMs ?? graceMs;
    const before = this.executor.stats();
    const cut = await grpcServer.stop(graceMs);
    if (cut > 0) log.warn({ graceMs, inferencesAtStop: before.active + before.waiting, callsCut: cut }, 'calls still running at the shutdown grace were cut (answered UNAVAILABLE)');
    // A load that hangs must not hang the shutdown: give the models their grace, then go.
    let timer: NodeJS.Timeout | undefined;
    const unloaded = this.modelSet.shutdown().then(() => true);
    const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), unloadGraceMs)));
    if (!(await Promise.race([unloaded, gaveUp]))) {
      const left = this.models().filter((m) => m.status !== ModelStatus.STOPPED && m.status !== ModelStatus.FAILED).map((m) => m.component);
      log.warn({ unloadGraceMs, models: left }, 'models still loading or unloading at shutdown; leaving them');
    }
    clearTimeout(timer);
    await this.removeSocketFile();
    log.info({ reason }, 'edge agent server stopped');
  }

  /**
   * Removes our socket file, unless the path now holds another one: a server started while this one was
   * stopping (its models unloading) found our socket dead, replaced it, and must keep its own.
   */
  private async removeSocketFile(): Promise<void> {
    const ours = this.socketFile;
    this.socketFile = undefined;
    if (!ours) return;
    const now = await fileIdentity(ours.path).catch(() => undefined);
    if (now === ours.id) await unlink(ours.path).catch(() => undefined);
    else if (now !== undefined) this.deps.log.warn({ socket: ours.path }, 'the socket path holds another server\'s socket now; leaving it');
  }

  models(): ModelInfo[] {
    return this.modelSet.describe();
  }

  /** The entry each served component was configured with (startOnBoot, directory, version). */
  entries(): ModelEntry[] {
    return [...this.modelSet.slots.values()].map((s) => s.entry);
  }

  /** Serves exactly `entries` from now on (see ModelSet.apply); `modelChangesSettled()` waits for it. */
  applyModels(entries: readonly ModelEntry[]): ModelSetChanges {
    return this.modelSet.apply(entries);
  }

  modelChangesSettled(): Promise<void> {
    return this.modelSet.idle();
  }

  /** Queue figures, queued requests skipped because their caller had given up (abandoned included), and byte admission. */
  stats(): ExecutorStats & AdmissionStats & { skipped: number } {
    const queue = this.executor.stats();
    return { ...queue, ...this.admission.stats(), skipped: queue.abandoned + (this.service?.skipped ?? 0) };
  }
}

/** Device, inode and change time (ns) of a path itself (not what a link points to). */
async function fileIdentity(path: string): Promise<string> {
  const st = await lstat(path, { bigint: true });
  return `${st.dev}:${st.ino}:${st.ctimeNs}`;
}
