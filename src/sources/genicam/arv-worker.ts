import { LookoutError, type ErrorCode } from '../../core/errors.js';
import { findInstalledFile } from '../../system/installed-file.js';
import { superviseChild } from '../core/supervised-child.js';
import { WorkerRecordParser, type WorkerFrame } from './worker-records.js';

/** Finds workers/arv-worker.py above this module (from src/ under tsx, from dist/src/ once built). */
export function arvWorkerPath(): string {
  const path = findInstalledFile('workers/arv-worker.py');
  if (path === undefined) throw new LookoutError('INTERNAL', 'workers/arv-worker.py not found above the installation directory');
  return path;
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

/** The codes the worker may report; anything else it says is SOURCE_UNAVAILABLE. */
const WORKER_CODES: ReadonlySet<string> = new Set<ErrorCode>(['SOURCE_UNAVAILABLE', 'SOURCE_SETTINGS_INVALID', 'INTERNAL']);

/**
 * Runs the Aravis worker (workers/arv-worker.py) as a child process: the same isolation as ffmpeg
 * for RTSP, so a camera driver that crashes or hangs takes only its own process with it. Errors the
 * worker reports (`{type:'error', code}`) reject `done` with that code; an exit without one is
 * SOURCE_UNAVAILABLE; silence past the stall timeout is SOURCE_STALLED.
 */
export function startArvWorker(o: ArvWorkerOptions): ArvWorker {
  let script: string;
  try {
    script = arvWorkerPath();
  } catch (err) {
    const error = new LookoutError('SOURCE_UNAVAILABLE', `cannot start the GenICam worker: ${(err as Error).message}`, { cause: err });
    return { done: o.signal.aborted ? Promise.resolve() : Promise.reject(error), send: () => false };
  }
  const parser = new WorkerRecordParser(o.maxFrameBytes);
  let reported: LookoutError | undefined;
  const child = superviseChild({
    command: o.pythonPath,
    args: [script, ...o.args],
    name: 'the GenICam worker',
    stdin: 'pipe',
    stallTimeoutMs: o.stallTimeoutMs,
    firstGraceMs: o.firstRecordGraceMs,
    firstStallMessage: `no answer from the camera within ${o.stallTimeoutMs + o.firstRecordGraceMs} ms`,
    // End of stdin asks the worker to stop acquiring and release the camera (a GigE camera stays
    // controlled by a killed worker until its heartbeat times out); SIGTERM does the same a little
    // later, SIGKILL if it hangs.
    stopping: { stdinGraceMs: 1_500, killGraceMs: 1_500 },
    reportedError: () => reported,
    signal: o.signal,
    onStdout: (chunk, life) => {
      for (const record of parser.push(chunk)) {
        if (life.ending) return;
        if (record.kind === 'frame') {
          life.alive();
          o.onFrame(record);
        } else if (record.body.type === 'error') {
          const code = String(record.body.code);
          reported = new LookoutError(WORKER_CODES.has(code) ? (code as ErrorCode) : 'SOURCE_UNAVAILABLE', String(record.body.message));
        } else {
          if (!o.framesOnly || record.body.type === 'ready') life.alive();
          o.onMessage(record.body);
        }
      }
    },
  });
  return { done: child.done, send: (command) => child.write(`${command}\n`) };
}
