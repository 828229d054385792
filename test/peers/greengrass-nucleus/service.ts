import { normalizeStep, stringMap, isObj, type Recipe, type Step } from './recipe.js';
import { type ProcessEnd, type StepProcess, shouldSkip, spawnStep } from './processes.js';
import type { PosixUser } from './users.js';

/**
 * One component's lifecycle, after the nucleus's Lifecycle.java / GenericExternalService.java.
 *
 * Facts (source):
 * - States NEW → INSTALLED → STARTING → RUNNING → STOPPING → FINISHED, plus ERRORED and BROKEN.
 * - Install: default timeout 120 s (DEFAULT_INSTALL_STAGE_TIMEOUT_IN_SEC); failure or timeout → ERRORED, then back
 *   to NEW and Install again. Startup: default timeout 120 s; the component stays STARTING until the script exits 0
 *   or it reports RUNNING over IPC (UpdateState); non-zero → ERRORED. Shutdown: the whole stop (Shutdown step, then
 *   closing every lifecycle process) has 15 s (DEFAULT_SHUTDOWN_STAGE_TIMEOUT_IN_SEC).
 * - Run: RUNNING as soon as the process starts ("reportState(State.RUNNING)" right after the spawn). Exit 0 →
 *   "Service finished running" → requestStop → FINISHED; non-zero → ERRORED → STOPPING → INSTALLED → STARTING.
 *   Run `Timeout` (optional) → ERRORED and the process is closed. Neither Startup nor Run → FINISHED.
 * - shutdown(): runs the Shutdown step FIRST, then stopAllLifecycleProcesses() (SIGTERM, 5 s, SIGKILL).
 * - "MAXIMUM_CONTINUAL_ERROR = 3": the third ERRORED from the same state (NEW, STARTING or RUNNING) within
 *   errorResetTime (1 h) makes it BROKEN; reaching any other state from that state resets its count. A BROKEN
 *   component that was STARTING/RUNNING is shut down and stays BROKEN until a deployment reinstalls it.
 * - Start order: INSTALLED waits until every dependency is RUNNING or FINISHED (waitForDependencyReady; HARD and
 *   SOFT alike). A HARD dependency that leaves RUNNING/FINISHED restarts its dependents (developer guide,
 *   ComponentDependencies: "HARD – The component restarts if the dependency changes state").
 * - Setenv from the lifecycle is applied before the step's Setenv (addEnv: "add parents contributions first").
 */

export type State = 'NEW' | 'INSTALLED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'ERRORED' | 'BROKEN' | 'FINISHED';

export const INSTALL_TIMEOUT_SEC = 120;
export const STARTUP_TIMEOUT_SEC = 120;
export const SHUTDOWN_TIMEOUT_SEC = 15;
export const MAXIMUM_CONTINUAL_ERROR = 3;

/** Everything the nucleus resolved for one component version. */
export interface ServiceDefinition {
  name: string;
  version: string;
  recipeText: string;
  recipe: Recipe;
  configuration: Record<string, unknown>;
  /** Lifecycle after interpolation (lower-case step keys). */
  lifecycle: Record<string, unknown>;
  runWith?: { posixUser?: string };
  runAs: PosixUser;
  dependencies: Record<string, 'HARD' | 'SOFT'>;
}

export interface ServiceHost {
  workPath(name: string): string;
  baseEnv(service: ComponentService): Record<string, string>;
  dependencyState(name: string): State | undefined;
  canSwitchUser: boolean;
  appendLog(name: string, text: string): void;
  stateChanged(service: ComponentService, from: State, to: State): void;
}

export class ComponentService {
  state: State = 'NEW';
  readonly history: { state: State; at: number }[] = [{ state: 'NEW', at: Date.now() }];
  readonly ends: ProcessEnd[] = [];
  private desired: State[] = [];
  private reported: State[] = [];
  private errors = new Map<State, number[]>();
  private processes = new Set<StepProcess>();
  private generation = 0;
  private wake: (() => void) | undefined;
  private pending = false;
  private closed = false;
  private readonly loop: Promise<void>;

  constructor(
    public def: ServiceDefinition,
    private readonly host: ServiceHost,
  ) {
    this.loop = this.run();
  }

  get name(): string {
    return this.def.name;
  }

  /** True when the component is where it was asked to be (the deployment waits for this). */
  settled(): boolean {
    return this.desired.every((d) => d === this.state) && (this.state === 'RUNNING' || this.state === 'FINISHED' || this.state === 'BROKEN');
  }

  /** BROKEN and not asked to reinstall: only a deployment can help it now. */
  failed(): boolean {
    return this.state === 'BROKEN' && this.desired[0] !== 'NEW';
  }

  requestStart(): void {
    this.setDesired(['RUNNING']);
  }
  requestRestart(): void {
    this.setDesired(['INSTALLED', 'RUNNING']);
  }
  requestReinstall(): void {
    this.setDesired(['NEW', 'RUNNING']);
  }
  requestStop(): void {
    this.setDesired(['FINISHED']);
  }

  /** UpdateState over IPC: RUNNING or ERRORED. */
  reportFromComponent(state: State): void {
    this.report(state);
  }

  kick(): void {
    const w = this.wake;
    this.wake = undefined;
    if (w) w();
    else this.pending = true;
  }

  /** Ends the lifecycle loop after the component has stopped. */
  async close(): Promise<void> {
    this.closed = true;
    this.kick();
    await this.loop;
  }

  private setDesired(list: State[]): void {
    this.desired = [...list];
    this.kick();
  }

  private report(state: State): void {
    this.reported.push(state);
    this.kick();
  }

  private nextDesired(): State | undefined {
    while (this.desired[0] === this.state) this.desired.shift();
    return this.desired[0];
  }

  private waitEvent(): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private enter(next: State): void {
    const from = this.state;
    if (next === 'ERRORED' && (from === 'NEW' || from === 'STARTING' || from === 'RUNNING')) {
      const now = Date.now();
      const list = (this.errors.get(from) ?? []).filter((t) => now - t < 3_600_000);
      list.push(now);
      this.errors.set(from, list);
      if (list.length >= MAXIMUM_CONTINUAL_ERROR) next = 'BROKEN';
    } else if (next !== 'ERRORED') {
      this.errors.delete(from);
    }
    this.state = next;
    this.history.push({ state: next, at: Date.now() });
    this.host.stateChanged(this, from, next);
  }

  private async run(): Promise<void> {
    let previous: State = 'NEW';
    while (!(this.closed && ['NEW', 'INSTALLED', 'FINISHED', 'BROKEN', 'ERRORED'].includes(this.state))) {
      const current = this.state;
      const desired = this.nextDesired();
      const before = this.state;
      await this.handle(current, desired, previous);
      if (this.state !== before) previous = before;
      else await this.waitEvent();
    }
  }

  private moveToDesired(desired: State): void {
    if (this.closed) return this.enter('FINISHED');
    if (desired === 'NEW') this.enter('NEW');
    else if (desired === 'INSTALLED' || desired === 'RUNNING') this.enter('INSTALLED');
    else if (desired === 'FINISHED') this.enter('FINISHED');
  }

  private async handle(current: State, desired: State | undefined, previous: State): Promise<void> {
    switch (current) {
      case 'NEW':
        if (desired) await this.install();
        return;
      case 'INSTALLED':
        if (!desired) return;
        if (desired !== 'RUNNING') return this.moveToDesired(desired);
        if (this.dependenciesReady()) this.enter('STARTING');
        return;
      case 'STARTING':
        if (!desired) return;
        if (desired !== 'RUNNING') return this.enter('STOPPING');
        return this.start();
      case 'RUNNING':
        if (desired) return this.enter('STOPPING');
        return this.consumeReported();
      case 'STOPPING': {
        const ok = await this.shutdown();
        if (!ok) return this.enter('ERRORED');
        const next = this.desired[0] === 'FINISHED' ? (this.desired.shift(), 'FINISHED') : (this.desired[0] ?? 'FINISHED');
        return this.moveToDesired(next as State);
      }
      case 'FINISHED':
        if (desired) this.moveToDesired(desired);
        return;
      case 'ERRORED':
        if (this.desired.length === 0) this.desired = ['RUNNING'];
        if (previous === 'STARTING' || previous === 'RUNNING') return this.enter('STOPPING');
        if (previous === 'NEW') return this.enter('NEW');
        return this.enter('FINISHED');
      case 'BROKEN':
        if (this.processes.size > 0) await this.shutdown();
        if (desired === 'NEW') {
          this.errors.clear();
          this.enter('NEW');
        }
        return;
    }
  }

  private consumeReported(): void {
    const next = this.reported.shift();
    if (next === 'ERRORED' || next === 'FINISHED') this.enter(next);
  }

  private dependenciesReady(): boolean {
    return Object.keys(this.def.dependencies).every((dep) => {
      const s = this.host.dependencyState(dep);
      return s === 'RUNNING' || s === 'FINISHED';
    });
  }

  step(name: string): Step | undefined {
    return normalizeStep(this.def.lifecycle[name]);
  }

  private env(step: Step): Record<string, string> {
    const lifecycleSetenv = this.def.lifecycle.setenv;
    return { ...this.host.baseEnv(this), ...(isObj(lifecycleSetenv) ? stringMap(lifecycleSetenv) : {}), ...step.setenv };
  }

  private spawn(name: string, step: Step): StepProcess {
    const root = step.requiresPrivilege;
    const proc = spawnStep({
      step: name,
      script: step.script,
      cwd: this.host.workPath(this.name),
      env: this.env(step),
      user: root ? { user: 'root', group: 'root', uid: 0, gid: 0 } : this.def.runAs,
      switchUser: this.host.canSwitchUser,
      onOutput: (text) => this.host.appendLog(this.name, text),
    });
    this.processes.add(proc);
    void proc.ended.then((end) => {
      this.processes.delete(proc);
      this.ends.push(end);
    });
    return proc;
  }

  /** Runs a step in the foreground with a timeout; true on exit 0 (or skipped / absent). */
  private async foreground(name: string, defaultTimeoutSec: number): Promise<boolean> {
    const step = this.step(name);
    if (!step) return true;
    if (step.skipif && (await shouldSkip(step.skipif, this.env(step)))) return true;
    const proc = this.spawn(name, step);
    const timeoutMs = (step.timeoutSec ?? defaultTimeoutSec) * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), timeoutMs);
    });
    const result = await Promise.race([proc.ended, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.host.appendLog(this.name, `[nucleus] ${name} timed out after ${timeoutMs / 1000} s\n`);
      await proc.close();
      return false;
    }
    return result.code === 0;
  }

  private async install(): Promise<void> {
    this.reported = [];
    const ok = await this.foreground('install', INSTALL_TIMEOUT_SEC);
    this.enter(ok ? 'INSTALLED' : 'ERRORED');
  }

  private async start(): Promise<void> {
    const generation = ++this.generation;
    this.reported = [];
    const startup = this.step('startup');
    const run = this.step('run');
    if (startup) {
      if (startup.skipif && (await shouldSkip(startup.skipif, this.env(startup)))) return this.enter('RUNNING');
      const proc = this.spawn('startup', startup);
      const timer = setTimeout(() => {
        if (this.generation === generation && this.state === 'STARTING') this.report('ERRORED');
      }, (startup.timeoutSec ?? STARTUP_TIMEOUT_SEC) * 1000);
      void proc.ended.then((end) => {
        clearTimeout(timer);
        if (this.generation !== generation || (this.state !== 'STARTING' && this.state !== 'RUNNING') || end.terminated) return;
        if (end.code !== 0) this.report('ERRORED');
        else if (this.state === 'STARTING') this.report('RUNNING');
      });
      // wait for the component's verdict (script exit, UpdateState or the timeout)
      for (;;) {
        const next = this.reported.shift();
        if (next === 'RUNNING' || next === 'ERRORED' || next === 'FINISHED') return this.enter(next);
        if (this.nextDesired() !== 'RUNNING' || this.closed) return this.enter('STOPPING');
        await this.waitEvent();
      }
    }
    if (run) {
      if (run.skipif && (await shouldSkip(run.skipif, this.env(run)))) return this.enter('RUNNING');
      const proc = this.spawn('run', run);
      if (run.timeoutSec !== undefined) {
        setTimeout(() => {
          if (this.generation === generation && proc.running()) {
            this.report('ERRORED');
            void proc.close();
          }
        }, run.timeoutSec * 1000).unref();
      }
      void proc.ended.then((end) => {
        if (this.generation !== generation || this.state !== 'RUNNING' || end.terminated) return;
        if (end.code === 0) this.requestStop();
        else this.report('ERRORED');
      });
      return this.enter('RUNNING');
    }
    // Neither Startup nor Run: the component is done once installed (FINISHED satisfies a start request).
    this.desired = this.desired.filter((d) => d !== 'RUNNING');
    return this.enter('FINISHED');
  }

  /** Shutdown step, then every lifecycle process closed; false when it took longer than the shutdown timeout. */
  private async shutdown(): Promise<boolean> {
    this.generation += 1;
    const work = (async () => {
      const step = this.step('shutdown');
      if (step) {
        const proc = this.spawn('shutdown', step);
        await proc.ended;
      }
      await Promise.all([...this.processes].map((p) => p.close()));
    })();
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), SHUTDOWN_TIMEOUT_SEC * 1000).unref());
    const result = await Promise.race([work.then(() => 'done' as const), timeout]);
    if (result === 'timeout') {
      await Promise.all([...this.processes].map((p) => p.close()));
      return false;
    }
    return true;
  }
}
