import type { Logger } from '../core/log.js';

export interface Running {
  stop(reason: string): Promise<void>;
  /** Settles when the service ends by itself (fatal error); never for a healthy service. */
  readonly done?: Promise<void>;
}

/**
 * The Greengrass nucleus stops a component with SIGTERM and SIGKILLs it 5 s later (not configurable). A clean
 * stop gets 4 s of that; what has not finished by then is cut by exiting: every verdict the inspector
 * acknowledged is on disk already, and unacknowledged input (a file still in the inbox, a trigger not
 * answered) is taken up again after the restart.
 */
export const STOP_BUDGET_MS = 4_000;

/**
 * Keeps a long-running service up until SIGTERM or SIGINT (Ctrl-C), then stops it once within
 * `stopBudgetMs`. A second signal while stopping exits at once.
 */
export async function runUntilSignal(service: Running, log: Logger, stopBudgetMs = STOP_BUDGET_MS): Promise<void> {
  let stopping = false;
  await new Promise<void>((resolve, reject) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      const started = Date.now();
      log.info({ signal, stopBudgetMs }, 'stopping');
      const timer = setTimeout(() => {
        log.error({ stopBudgetMs }, 'clean stop did not finish in time; exiting (acknowledged verdicts are on disk)');
        process.exit(1);
      }, stopBudgetMs);
      timer.unref();
      service
        .stop(signal)
        .then(() => log.info({ ms: Date.now() - started }, 'stopped'))
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    service.done?.then(resolve, reject);
  });
}

/**
 * Ends the process `ms` from now unless its event loop has drained by then. After a clean stop nothing is
 * left to finish, but a native handle can outlive it (an IPC stream the aws-crt guard leaves unclosed, a
 * runtime busy with a call cut at shutdown) and must not keep the process past the nucleus's SIGKILL.
 */
export function exitUnlessDrainedWithin(ms = 200): void {
  setTimeout(() => process.exit(), ms).unref();
}
