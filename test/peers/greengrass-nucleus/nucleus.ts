import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareArtifacts } from './artifacts.js';
import { changedPaths } from './configuration.js';
import { DeploymentError, changeKind, resolveDeployment, topologicalOrder, type DeploymentComponentSpec, type InstalledInfo } from './deployment.js';
import type { VariableContext } from './interpolation.js';
import { startIpcServer, type IpcLogEntry, type IpcServer } from './ipc-server.js';
import type { ProcessEnd } from './processes.js';
import type { DevicePlatform } from './recipe.js';
import { ComponentService, type ServiceDefinition, type State } from './service.js';
import { isRoot, resolvePosixUser, type PosixUser } from './users.js';

/**
 * The nucleus runtime: component services, deployments (one at a time), the IPC server and the spooler.
 *
 * Facts (nucleus DeploymentService / DeploymentConfigMerger; developer guide manage-deployments,
 * greengrass-nucleus-component):
 * - Deployments are processed one at a time, in order.
 * - Download/prepare happens before any component changes; then the new configuration is merged and the
 *   deployment waits until every component is RUNNING or FINISHED ("reachedDesiredState"), failing when one is
 *   BROKEN. With failureHandlingPolicy ROLLBACK (the default) the previous versions and configurations are restored.
 * - Component changes: version / Install step / runWith → reinstall; other lifecycle or Setenv → restart (the
 *   Shutdown step excluded); configuration only → no restart, SubscribeToConfigurationUpdate events.
 * - Work folders (`work/<name>`) survive updates; they are owned by the component user, mode 0700 (the nucleus
 *   RunWithPathOwnershipHandler). Old versions' artifacts are removed after a successful deployment
 *   (ComponentManager.cleanupStaleVersions; it may keep more than the emulator does: uncertain).
 * - Spooler (greengrass-nucleus-component `spooler`): memory, maxSizeInBytes 2.5 MB; PublishToIoTCore fails when full.
 */

export interface RuntimeOptions {
  root: string;
  thingName: string;
  region: string;
  platform: DevicePlatform;
  interpolateComponentConfiguration: boolean;
  nucleusVersion: string;
  spoolerMaxBytes: number;
  defaultRunAs: PosixUser;
  env: Record<string, string>;
  getRecipe(name: string, version: string): Promise<string>;
  listVersions?: (name: string) => Promise<string[]>;
  getArtifact(uri: string): Promise<Buffer>;
  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
  deploymentTimeoutMs: number;
  notes: string[];
}

export interface DeploymentRequest {
  deploymentId: string;
  components: Record<string, DeploymentComponentSpec>;
  failureHandlingPolicy?: 'ROLLBACK' | 'DO_NOTHING';
}

export interface DeploymentResult {
  deploymentId: string;
  status: 'SUCCEEDED' | 'FAILED';
  rolledBack: boolean;
  reason?: string;
}


export class NucleusRuntime {
  readonly services = new Map<string, ComponentService>();
  private readonly tokens = new Map<string, string>();
  private readonly logText = new Map<string, string>();
  private readonly endedProcesses = new Map<string, ProcessEnd[]>();
  private readonly listeners = new Set<() => void>();
  private queue: Promise<unknown> = Promise.resolve();
  private spooled = 0;
  private halted = false;
  ipc!: IpcServer;

  readonly variables: VariableContext;

  constructor(readonly opts: RuntimeOptions) {
    this.variables = {
      rootPath: opts.root,
      thingName: opts.thingName,
      artifactsPath: (n, v) => join(opts.root, 'packages', 'artifacts', n, v),
      decompressedPath: (n, v) => join(opts.root, 'packages', 'artifacts-unarchived', n, v),
      workPath: (n) => join(opts.root, 'work', n),
    };
  }

  get socketPath(): string {
    return join(this.opts.root, 'ipc.socket');
  }

  async start(): Promise<void> {
    const { root } = this.opts;
    for (const d of ['', 'packages', 'packages/recipes', 'packages/artifacts', 'packages/artifacts-unarchived', 'work', 'logs']) {
      await mkdir(join(root, d), { recursive: true });
      await chmod(join(root, d), 0o755);
    }
    await writeFile(join(root, 'rootCA.pem'), '');
    this.ipc = await startIpcServer(this.socketPath, {
      componentForToken: (token) => this.tokens.get(token),
      configuration: (name) => this.services.get(name)?.def.configuration,
      updateState: (name, state) => {
        if (state === 'RUNNING' || state === 'ERRORED') this.services.get(name)?.reportFromComponent(state);
      },
      publishToIoTCore: (_component, topic, payload, qos, retain) => {
        if (this.spooled + payload.length > this.opts.spoolerMaxBytes) throw new Error('Spool is full: message rejected');
        this.spooled += payload.length;
        void this.sendSpooled(topic, payload, qos, retain).finally(() => {
          this.spooled -= payload.length;
        });
      },
      subscribeToIoTCore: (filter, onMessage) => this.opts.subscribe(filter, onMessage),
    });
  }

  /**
   * The spooler keeps a QoS 1 message until IoT Core took it, resending while the connection is down; QoS 0 is
   * tried once (dropped while offline). All of it is memory: a nucleus stop loses what is still spooled.
   */
  private async sendSpooled(topic: string, payload: Buffer, qos: 0 | 1, retain: boolean): Promise<void> {
    for (;;) {
      try {
        await this.opts.publish(topic, payload, { qos, retain });
        return;
      } catch {
        if (qos === 0 || this.halted) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  get ipcLog(): IpcLogEntry[] {
    return this.ipc.log;
  }

  logs(name: string): string {
    return this.logText.get(name) ?? '';
  }

  ends(name: string): ProcessEnd[] {
    return this.services.get(name)?.ends ?? this.endedProcesses.get(name) ?? [];
  }

  tokenOf(name: string): string | undefined {
    return [...this.tokens].find(([, n]) => n === name)?.[0];
  }

  /** Resolves when `predicate` holds, re-checked on every state change. */
  waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (predicate()) return resolve();
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  private appendLog(name: string, text: string): void {
    this.logText.set(name, (this.logText.get(name) ?? '') + text);
    try {
      appendFileSync(join(this.opts.root, 'logs', `${name}.log`), text);
    } catch {
      // logs/ removed under us: keep the in-memory copy
    }
  }

  private stateChanged(service: ComponentService, from: State, to: State): void {
    this.appendLog(service.name, `[nucleus] ${service.name} ${from} -> ${to}\n`);
    // HARD dependency semantics: a dependency leaving RUNNING restarts its HARD dependents.
    if (from === 'RUNNING' && (to === 'STOPPING' || to === 'ERRORED' || to === 'BROKEN')) {
      for (const other of this.services.values()) {
        if (other.def.dependencies[service.name] === 'HARD' && (other.state === 'RUNNING' || other.state === 'STARTING')) other.requestRestart();
      }
    }
    for (const s of this.services.values()) s.kick();
    for (const l of [...this.listeners]) l();
  }

  private async createService(def: ServiceDefinition): Promise<ComponentService> {
    const work = this.variables.workPath(def.name);
    await mkdir(work, { recursive: true });
    await chmod(work, 0o700);
    if (isRoot()) await chown(work, def.runAs.uid, def.runAs.gid);
    const token = randomBytes(16).toString('hex');
    const service = new ComponentService(def, {
      workPath: (n) => this.variables.workPath(n),
      baseEnv: (s) => ({
        ...this.opts.env,
        AWS_IOT_THING_NAME: this.opts.thingName,
        AWS_REGION: this.opts.region,
        AWS_DEFAULT_REGION: this.opts.region,
        SVCUID: this.tokenOf(s.name) ?? '',
        AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: this.socketPath,
        GG_ROOT_CA_PATH: join(this.opts.root, 'rootCA.pem'),
      }),
      dependencyState: (n) => this.services.get(n)?.state,
      canSwitchUser: isRoot(),
      appendLog: (n, t) => this.appendLog(n, t),
      stateChanged: (s, f, t) => this.stateChanged(s, f, t),
    });
    this.tokens.set(token, def.name);
    this.services.set(def.name, service);
    return service;
  }

  private async prepare(def: ServiceDefinition): Promise<void> {
    await prepareArtifacts(
      def.recipe.artifacts,
      { artifacts: this.variables.artifactsPath(def.name, def.version), unarchived: this.variables.decompressedPath(def.name, def.version) },
      def.runAs,
      (uri) => this.opts.getArtifact(uri),
      isRoot(),
    );
    await writeFile(join(this.opts.root, 'packages', 'recipes', `${def.name}@${def.version}.recipe.yaml`), def.recipeText);
  }

  private async removeService(name: string): Promise<void> {
    const service = this.services.get(name);
    if (!service) return;
    service.requestStop();
    await this.waitUntil(() => service.state === 'FINISHED' || service.state === 'BROKEN' || service.state === 'NEW' || service.state === 'INSTALLED', 30_000, `${name} to stop`);
    await service.close();
    this.endedProcesses.set(name, service.ends);
    this.services.delete(name);
    const token = this.tokenOf(name);
    if (token) this.tokens.delete(token);
    this.ipc.disconnect(name);
  }

  /** Makes the running set equal to `defs` and waits for it to settle; returns a failure reason, if any. */
  private async apply(defs: Map<string, ServiceDefinition>): Promise<string | undefined> {
    for (const name of [...this.services.keys()].reverse()) if (!defs.has(name)) await this.removeService(name);
    for (const name of topologicalOrder(defs)) {
      const def = defs.get(name) as ServiceDefinition;
      const existing = this.services.get(name);
      if (!existing) {
        (await this.createService(def)).requestStart();
        continue;
      }
      const kind = changeKind(existing.def, def);
      const before = existing.def.configuration;
      existing.def = def;
      if (kind === 'reinstall' || existing.state === 'BROKEN') existing.requestReinstall();
      else if (kind === 'restart') existing.requestRestart();
      else if (kind === 'configuration') {
        this.ipc.configurationChanged(name, changedPaths(before, def.configuration));
        if (existing.state === 'FINISHED') existing.requestStart();
      }
    }
    const members = [...defs.keys()].map((n) => this.services.get(n) as ComponentService);
    try {
      await this.waitUntil(() => members.every((s) => s.settled()) || members.some((s) => s.failed()), this.opts.deploymentTimeoutMs, 'the deployment to settle');
    } catch (err) {
      return (err as Error).message;
    }
    const broken = members.filter((s) => s.failed()).map((s) => s.name);
    return broken.length ? `component(s) BROKEN: ${broken.join(', ')}` : undefined;
  }

  private installedInfo(name: string): InstalledInfo | undefined {
    const s = this.services.get(name);
    return s ? { version: s.def.version, recipeText: s.def.recipeText, configuration: s.def.configuration, ...(s.def.runWith ? { runWith: s.def.runWith } : {}) } : undefined;
  }

  deploy(request: DeploymentRequest): Promise<DeploymentResult> {
    const run = this.queue.then(() => this.deployNow(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async deployNow(request: DeploymentRequest): Promise<DeploymentResult> {
    const rollback = (request.failureHandlingPolicy ?? 'ROLLBACK') === 'ROLLBACK';
    const previous = new Map([...this.services].map(([n, s]) => [n, s.def] as const));
    let defs: Map<string, ServiceDefinition>;
    try {
      defs = await resolveDeployment(request.components, {
        platform: this.opts.platform,
        getRecipe: (n, v) => this.opts.getRecipe(n, v),
        ...(this.opts.listVersions ? { listVersions: this.opts.listVersions } : {}),
        installed: (n) => this.installedInfo(n),
        variables: this.variables,
        interpolateComponentConfiguration: this.opts.interpolateComponentConfiguration,
        nucleusVersion: this.opts.nucleusVersion,
        runAsFor: (runWith) => (runWith?.posixUser && isRoot() ? resolvePosixUser(runWith.posixUser) : this.opts.defaultRunAs),
        warn: (m) => this.opts.notes.push(m),
      });
      for (const def of defs.values()) await this.prepare(def);
    } catch (err) {
      const reason = err instanceof DeploymentError ? err.message : `preparing the deployment failed: ${(err as Error).message}`;
      return { deploymentId: request.deploymentId, status: 'FAILED', rolledBack: rollback, reason };
    }
    const failure = await this.apply(defs);
    if (!failure) {
      await this.cleanupStaleVersions();
      return { deploymentId: request.deploymentId, status: 'SUCCEEDED', rolledBack: false };
    }
    if (!rollback) return { deploymentId: request.deploymentId, status: 'FAILED', rolledBack: false, reason: failure };
    const rollbackFailure = await this.apply(previous);
    return { deploymentId: request.deploymentId, status: 'FAILED', rolledBack: true, reason: rollbackFailure ? `${failure}; rollback failed too: ${rollbackFailure}` : failure };
  }

  private async cleanupStaleVersions(): Promise<void> {
    const { readdir } = await import('node:fs/promises');
    for (const base of ['artifacts', 'artifacts-unarchived']) {
      const dir = join(this.opts.root, 'packages', base);
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const keep = this.services.get(name)?.def.version;
        for (const version of await readdir(join(dir, name)).catch(() => [] as string[])) {
          if (version !== keep) await rm(join(dir, name, version), { recursive: true, force: true });
        }
      }
    }
  }

  restart(name: string): void {
    const s = this.services.get(name);
    if (!s) throw new Error(`no component ${name}`);
    s.requestRestart();
  }

  /** Nucleus shutdown: dependents stop before their dependencies. */
  async stop(): Promise<void> {
    this.halted = true;
    const defs = new Map([...this.services].map(([n, s]) => [n, s.def] as const));
    for (const name of topologicalOrder(defs).reverse()) await this.removeService(name);
    await this.ipc.stop();
  }
}
