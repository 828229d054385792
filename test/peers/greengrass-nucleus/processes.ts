import { type ChildProcess, spawn } from 'node:child_process';
import type { PosixUser } from './users.js';

/**
 * Lifecycle processes: `sh -c <script>` as the component user, and the nucleus's way of stopping them.
 *
 * Facts (nucleus source):
 * - Steps run through the shell (`runWithDefaultPosixShell`, default `sh`) in the component's work folder, as the
 *   component user (Exec.withUser/withGroup; the nucleus uses `sudo -u … -g … -E -H`).
 * - Exec.close(): `killProcessAndChildren(p, false, …)` (SIGTERM to the process and all its children), "Wait up to
 *   5 seconds for each child process to stop", then `killProcessAndChildren(p, true, …)` (SIGKILL) "anyway. This
 *   way, any misbehaving children or grandchildren will be killed whether or not the parent behaved". The grace is
 *   fixed ("TODO: [P41214162] configurable timeout"). Modelled with a process group per step (detached spawn):
 *   SIGTERM to the group, up to 5 s for the step's shell to exit, then SIGKILL to the whole group.
 * - Exit status 128+n is how the nucleus sees a shell killed by signal n (GenericExternalService.exit2String).
 */

export const STOP_GRACE_MS = 5_000;

export interface ProcessEnd {
  step: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The nucleus sent SIGTERM (stop, restart, timeout). */
  terminated: boolean;
  /** It was still running STOP_GRACE_MS after SIGTERM and got SIGKILL. */
  killedAfterTimeout: boolean;
  startedAt: number;
  endedAt: number;
}

export interface StepProcess {
  readonly step: string;
  readonly pid: number;
  readonly ended: Promise<ProcessEnd>;
  running(): boolean;
  /** SIGTERM, then SIGKILL after STOP_GRACE_MS (the whole group gets SIGKILL in any case, as Exec.close does). */
  close(): Promise<ProcessEnd>;
}

export interface StepSpawn {
  step: string;
  script: string;
  cwd: string;
  env: Record<string, string>;
  user: PosixUser;
  switchUser: boolean;
  onOutput: (chunk: string) => void;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

export function spawnStep(opts: StepSpawn): StepProcess {
  const child: ChildProcess = spawn('sh', ['-c', opts.script], {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.switchUser ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
  });
  const startedAt = Date.now();
  let terminated = false;
  let killedAfterTimeout = false;
  let done = false;
  child.stdout?.on('data', (d: Buffer) => opts.onOutput(d.toString()));
  child.stderr?.on('data', (d: Buffer) => opts.onOutput(d.toString()));
  const pid = child.pid ?? -1;
  const ended = new Promise<ProcessEnd>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (done) return;
      done = true;
      resolve({ step: opts.step, pid, code, signal, terminated, killedAfterTimeout, startedAt, endedAt: Date.now() });
    };
    child.once('error', (err) => {
      opts.onOutput(`[nucleus] cannot start ${opts.step}: ${err.message}\n`);
      finish(127, null);
    });
    child.once('close', (code, signal) => finish(code, signal));
  });
  let closing: Promise<ProcessEnd> | undefined;
  return {
    step: opts.step,
    pid,
    ended,
    running: () => !done,
    close: () => {
      closing ??= (async () => {
        if (!done && pid > 0) {
          terminated = true;
          signalGroup(pid, 'SIGTERM');
          const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_GRACE_MS).unref());
          if ((await Promise.race([ended, timer])) === 'timeout') killedAfterTimeout = true;
        }
        if (pid > 0) signalGroup(pid, 'SIGKILL');
        return ended;
      })();
      return closing;
    },
  };
}

/** `Skipif: onpath <cmd>` / `exists <path>`, optionally negated with `!` (GenericExternalService.shouldSkip). */
export async function shouldSkip(expression: string, env: Record<string, string>): Promise<boolean> {
  let expr = expression.trim();
  let negate = false;
  if (expr.startsWith('!')) {
    negate = true;
    expr = expr.slice(1).trim();
  }
  const m = /^(exists|onpath) +(.+)$/.exec(expr);
  if (!m) throw new Error(`invalid Skipif: ${expression}`);
  const { access } = await import('node:fs/promises');
  const { constants } = await import('node:fs');
  const { join } = await import('node:path');
  const target = m[2] ?? '';
  let found: boolean;
  if (m[1] === 'exists') {
    found = await access(target).then(() => true, () => false);
  } else {
    const dirs = target.startsWith('/') ? [''] : (env.PATH ?? '').split(':');
    found = false;
    for (const d of dirs) {
      if (await access(d ? join(d, target) : target, constants.X_OK).then(() => true, () => false)) {
        found = true;
        break;
      }
    }
  }
  return found !== negate;
}
