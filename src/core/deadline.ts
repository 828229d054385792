import { type ErrorCode, LookoutError } from './errors.js';

/**
 * The one sleep. Resolves after `ms`, or early (never rejecting) when `signal` aborts: callers check the
 * signal next, and a caller that wants an error for stopping throws its own typed one. With `ref: false`
 * the pending sleep does not keep the process alive (a delay inside a request handler).
 */
export function sleep(ms: number, signal?: AbortSignal, options: { readonly ref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (options.ref === false) timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface DeadlineOptions {
  /** Give up early when this aborts (the caller is stopping). */
  readonly signal?: AbortSignal;
  /** The code of the error for an early give-up; the timeout's code when not given. */
  readonly abortCode?: ErrorCode;
}

/**
 * Races `work` against a deadline (and `options.signal`); on timeout rejects with a LookoutError of `code`.
 * The work itself is not cancelled (a library call, a file-system call stuck in a worker thread): only the
 * waiting caller gives up, and the work's late result or rejection is dropped.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string, code: ErrorCode, options: DeadlineOptions = {}): Promise<T> {
  const { signal } = options;
  return new Promise<T>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(new LookoutError(options.abortCode ?? code, `${what} abandoned: stopping`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new LookoutError(code, `${what} did not finish within ${ms} ms`, { details: { timeoutMs: ms } }));
    }, ms);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        done();
        resolve(value);
      },
      (err: unknown) => {
        done();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** A request's own signal: aborted by its parent (a camera session) or by its deadline. */
export interface RequestSignal {
  readonly signal: AbortSignal;
  /** True once the deadline, not the parent, aborted it. */
  timedOut(): boolean;
  /** Detaches from the parent and clears the deadline; call when the request is over. */
  release(): void;
}

/**
 * A signal for one request under a long-lived parent. Not AbortSignal.any([parent, AbortSignal.timeout()]):
 * on Node 20 every such call leaves a WeakRef in the parent's set of dependants for as long as the parent
 * lives (a camera session fetching 5 snapshots a second holds ~18,000 more an hour).
 */
export function requestSignal(ms: number, parent?: AbortSignal): RequestSignal {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = (): void => controller.abort(parent?.reason);
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError'));
  }, ms);
  if (parent?.aborted) onAbort();
  else parent?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    release: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onAbort);
    },
  };
}
