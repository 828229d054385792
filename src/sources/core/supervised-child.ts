import { spawn, type ChildProcess } from 'node:child_process';
import { LookoutError } from '../../core/errors.js';

/** What the stdout handler may do with the child that fed it. */
export interface ChildLife {
  /** Resets the watchdog: the child showed a sign of life (a frame, or what counts as one). */
  alive(): void;
  /** True once the child is being stopped: the handler drops whatever is still in the chunk. */
  readonly ending: boolean;
}

export interface SupervisedChildOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** Names the child in error messages: `ffmpeg`, `the GenICam worker`. */
  readonly name: string;
  /** 'pipe' keeps stdin open for write(); 'ignore' gives the child none. */
  readonly stdin: 'pipe' | 'ignore';
  /** No alive() for this long: the child is stopped and `done` rejects SOURCE_STALLED. */
  readonly stallTimeoutMs: number;
  /** Extra time before the first alive() (opening a camera, probing a stream). */
  readonly firstGraceMs: number;
  /** The SOURCE_STALLED message when nothing came within stallTimeoutMs + firstGraceMs. */
  readonly firstStallMessage: string;
  /**
   * How the child is stopped. With stdinGraceMs, stdin is ended first (the child's cue to release
   * what it holds) and SIGTERM follows that much later; SIGKILL follows SIGTERM after killGraceMs.
   */
  readonly stopping: { readonly stdinGraceMs?: number; readonly killGraceMs: number };
  /** Applied to stderr before it goes into an error (credentials out of URLs). */
  readonly redact?: (text: string) => string;
  /**
   * Called with each stdout chunk. A throw stops the child: a LookoutError rejects `done` as it is,
   * anything else as SOURCE_PROTOCOL.
   */
  readonly onStdout: (chunk: Buffer, life: ChildLife) => void;
  /** The error the child itself reported before it exited, if any: `done` rejects with it then. */
  readonly reportedError?: () => LookoutError | undefined;
  readonly signal: AbortSignal;
}

export interface SupervisedChild {
  /** Resolves when the child ends as asked (signal), rejects with a LookoutError otherwise. */
  readonly done: Promise<void>;
  /** Writes to the child's stdin; false when there is none or it is gone. */
  write(text: string): boolean;
}

/** The last this many characters of stderr go into errors. */
const STDERR_TAIL = 4_096;

/**
 * Runs one child process under a watchdog until it fails, stalls or the signal aborts. It is
 * stopped in every case (stdin end → SIGTERM → SIGKILL, see `stopping`) and `done` settles only
 * once it has exited: resolved after an abort, rejected with a LookoutError otherwise (an exit of
 * its own is SOURCE_UNAVAILABLE with the stderr tail, unless the child reported its own error).
 */
export function superviseChild(o: SupervisedChildOptions): SupervisedChild {
  let child: ChildProcess | undefined;
  const done = new Promise<void>((resolve, reject) => {
    if (o.signal.aborted) return resolve();
    try {
      child = spawn(o.command, o.args, { stdio: [o.stdin, 'pipe', 'pipe'] });
    } catch (err) {
      return reject(new LookoutError('SOURCE_UNAVAILABLE', `cannot start ${o.name}: ${(err as Error).message}`, { cause: err }));
    }
    const proc = child;
    // the first sign of life may take longer: pretend the last one came a grace period in the future
    let lastAlive = Date.now() + o.firstGraceMs;
    let seen = false;
    let stderr = '';
    let outcome: { error?: LookoutError } | undefined;
    let exited = false;
    const life: ChildLife = {
      alive: () => {
        seen = true;
        lastAlive = Date.now();
      },
      get ending() {
        return outcome !== undefined;
      },
    };

    const tail = (): string => (o.redact ? o.redact(stderr.trim()) : stderr.trim()).slice(-STDERR_TAIL);
    const signalLater = (sig: NodeJS.Signals, ms: number): void => {
      if (ms <= 0) {
        proc.kill(sig);
        return;
      }
      setTimeout(() => {
        if (!exited) proc.kill(sig);
      }, ms).unref();
    };
    const stop = (): void => {
      if (exited) return;
      const { stdinGraceMs, killGraceMs } = o.stopping;
      if (stdinGraceMs !== undefined) proc.stdin?.end();
      signalLater('SIGTERM', stdinGraceMs ?? 0);
      signalLater('SIGKILL', (stdinGraceMs ?? 0) + killGraceMs);
    };
    const finish = (error?: LookoutError): void => {
      if (outcome) return;
      outcome = error ? { error } : {};
      clearInterval(watchdog);
      o.signal.removeEventListener('abort', onAbort);
      stop();
    };
    const onAbort = (): void => finish();
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastAlive <= o.stallTimeoutMs) return;
        const message = seen ? `no frame for ${o.stallTimeoutMs} ms` : o.firstStallMessage;
        finish(new LookoutError('SOURCE_STALLED', message, { details: { stderr: tail() } }));
      },
      Math.max(20, Math.min(1_000, Math.floor(o.stallTimeoutMs / 4))),
    );
    o.signal.addEventListener('abort', onAbort, { once: true });

    proc.stdout?.on('data', (chunk: Buffer) => {
      if (outcome) return;
      try {
        o.onStdout(chunk, life);
      } catch (err) {
        finish(err instanceof LookoutError ? err : new LookoutError('SOURCE_PROTOCOL', (err as Error).message, { cause: err }));
      }
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2 * STDERR_TAIL);
    });
    // a child that exits while we write to it: the exit is reported by 'close'
    proc.stdin?.on('error', () => undefined);
    proc.on('error', (err) => {
      finish(new LookoutError('SOURCE_UNAVAILABLE', `${o.name} failed to run: ${err.message}`, { cause: err }));
    });
    proc.on('close', (code, sig) => {
      exited = true;
      if (!outcome) {
        const last = tail().split('\n').at(-1) ?? '';
        finish(o.reportedError?.() ?? new LookoutError('SOURCE_UNAVAILABLE', `${o.name} exited (${sig ?? code})${last ? `: ${last}` : ''}`, { details: { stderr: tail() } }));
      }
      clearInterval(watchdog);
      if (outcome?.error) reject(outcome.error);
      else resolve();
    });
  });
  return {
    done,
    write: (text) => {
      const stdin = child?.stdin;
      if (!stdin || stdin.destroyed || !stdin.writable) return false;
      stdin.write(text);
      return true;
    },
  };
}
