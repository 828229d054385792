import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LookoutError, type ErrorCode } from '../../core/errors.js';
import { WorkerRecordParser, type WorkerFrame } from './worker-records.js';

/** Finds workers/arv-worker.py above this module (from src/ under tsx, from dist/src/ once built). */
export function arvWorkerPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'workers', 'arv-worker.py');
    if (existsSync(candidate)) return candidate;
    const parent = resolve(dir, '..');
    if (parent === dir) break;
    dir = parent;
  }
  throw new LookoutError('INTERNAL', 'workers/arv-worker.py not found above the installation directory');
}

export interface WorkerStats {
  readonly completed: number;
  readonly failures: number;
  readonly underruns: number;
  readonly resentPackets?: number;
  readonly missingPackets?: number;
}

export interface ArvWorkerOptions {
  readonly pythonPath: string;
  /** The worker's arguments after the script: `['discover']` or `['stream', json]`. */
  readonly args: readonly string[];
  /** No record that counts as alive for this long kills the worker: SOURCE_STALLED. */
  readonly stallTimeoutMs: number;
  /** Extra time for the first record (opening the camera, discovery by serial). */
  readonly firstRecordGraceMs: number;
  /** Triggered cameras send no frames on their own: then any record (the worker's stats each second) counts. */
  readonly framesOnly: boolean;
  readonly maxFrameBytes: number;
  readonly signal: AbortSignal;
  readonly onMessage: (body: { readonly type: string; readonly [key: string]: unknown }) => void;
  readonly onFrame: (frame: WorkerFrame) => void;
}

export interface ArvWorker {
  /** Resolves when the worker ends as asked (signal), rejects with a LookoutError otherwise. */
  readonly done: Promise<void>;
  /** Sends one line to the worker's stdin (`trigger`); false when it is gone. */
  send(command: 'trigger'): boolean;
}

const KILL_GRACE_MS = 1_500;
/** The codes the worker may report; anything else it says is SOURCE_UNAVAILABLE. */
const WORKER_CODES: ReadonlySet<string> = new Set<ErrorCode>(['SOURCE_UNAVAILABLE', 'SOURCE_SETTINGS_INVALID', 'INTERNAL']);
const STDERR_TAIL = 4_096;

/**
 * Runs the Aravis worker (workers/arv-worker.py) as a child process: the same isolation as ffmpeg
 * for RTSP, so a camera driver that crashes or hangs takes only its own process with it. Errors the
 * worker reports (`{type:'error', code}`) reject `done` with that code; an exit without one is
 * SOURCE_UNAVAILABLE; silence past the stall timeout is SOURCE_STALLED.
 */
export function startArvWorker(o: ArvWorkerOptions): ArvWorker {
  let child: ChildProcess | undefined;
  const done = new Promise<void>((resolvePromise, reject) => {
    if (o.signal.aborted) return resolvePromise();
    try {
      child = spawn(o.pythonPath, [arvWorkerPath(), ...o.args], { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      return reject(new LookoutError('SOURCE_UNAVAILABLE', `cannot start the GenICam worker: ${(err as Error).message}`, { cause: err }));
    }
    const proc = child;
    const parser = new WorkerRecordParser(o.maxFrameBytes);
    const started = Date.now();
    let lastAlive = started + o.firstRecordGraceMs;
    let stderr = '';
    let reported: LookoutError | undefined;
    let outcome: { error?: LookoutError } | undefined;
    let exited = false;

    const tail = (): string => stderr.trim().slice(-STDERR_TAIL);
    // End of stdin asks the worker to stop acquiring and release the camera (a GigE camera stays
    // controlled by a killed worker until its heartbeat times out); SIGTERM does the same a little
    // later, SIGKILL if it hangs.
    const kill = (): void => {
      if (exited) return;
      proc.stdin?.end();
      setTimeout(() => {
        if (!exited) proc.kill('SIGTERM');
      }, KILL_GRACE_MS).unref();
      setTimeout(() => {
        if (!exited) proc.kill('SIGKILL');
      }, 2 * KILL_GRACE_MS).unref();
    };
    const finish = (error?: LookoutError): void => {
      if (outcome) return;
      outcome = error ? { error } : {};
      clearInterval(watchdog);
      o.signal.removeEventListener('abort', onAbort);
      kill();
    };
    const onAbort = (): void => finish();
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastAlive > o.stallTimeoutMs) {
          const first = lastAlive > started;
          finish(new LookoutError('SOURCE_STALLED', first ? `no frame for ${o.stallTimeoutMs} ms` : `no answer from the camera within ${o.stallTimeoutMs + o.firstRecordGraceMs} ms`));
        }
      },
      Math.max(20, Math.min(1_000, Math.floor(o.stallTimeoutMs / 4))),
    );
    o.signal.addEventListener('abort', onAbort, { once: true });

    proc.stdout?.on('data', (chunk: Buffer) => {
      if (outcome) return;
      try {
        for (const record of parser.push(chunk)) {
          if (outcome) return;
          if (record.kind === 'frame') {
            lastAlive = Date.now();
            o.onFrame(record);
          } else if (record.body.type === 'error') {
            const code = String(record.body.code);
            reported = new LookoutError(WORKER_CODES.has(code) ? (code as ErrorCode) : 'SOURCE_UNAVAILABLE', String(record.body.message));
          } else {
            if (!o.framesOnly || record.body.type === 'ready') lastAlive = Date.now();
            o.onMessage(record.body);
          }
        }
      } catch (err) {
        finish(err instanceof LookoutError ? err : new LookoutError('SOURCE_PROTOCOL', (err as Error).message, { cause: err }));
      }
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2 * STDERR_TAIL);
    });
    // a worker that exits while we write a trigger: the exit is reported by 'close'
    proc.stdin?.on('error', () => undefined);
    proc.on('error', (err) => {
      finish(new LookoutError('SOURCE_UNAVAILABLE', `the GenICam worker failed to run: ${err.message}`, { cause: err }));
    });
    proc.on('close', (code, sig) => {
      exited = true;
      if (!outcome) {
        const last = tail().split('\n').at(-1) ?? '';
        finish(reported ?? new LookoutError('SOURCE_UNAVAILABLE', `the GenICam worker exited (${sig ?? code})${last ? `: ${last}` : ''}`, { details: { stderr: tail() } }));
      }
      clearInterval(watchdog);
      if (outcome?.error) reject(outcome.error);
      else resolvePromise();
    });
  });
  return {
    done,
    send: (command) => {
      const stdin = child?.stdin;
      if (!stdin || stdin.destroyed || !stdin.writable) return false;
      stdin.write(`${command}\n`);
      return true;
    },
  };
}
