import type { Logger } from '../core/log.js';

export interface Running {
  stop(reason: string): Promise<void>;
  /** Settles when the service ends by itself (fatal error); never for a healthy service. */
  readonly done?: Promise<void>;
}

/**
 * Keeps a long-running service up until SIGINT or SIGTERM (the Greengrass nucleus sends SIGINT to the
 * lifecycle script's children first, then SIGTERM), then stops it once, with a deadline. A second signal
 * while stopping exits at once.
 */
export async function runUntilSignal(service: Running, log: Logger, stopTimeoutMs = 15_000): Promise<void> {
  let stopping = false;
  await new Promise<void>((resolve, reject) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      const timer = setTimeout(() => {
        log.error({ stopTimeoutMs }, 'clean stop took too long; exiting');
        process.exit(1);
      }, stopTimeoutMs);
      timer.unref();
      service.stop(signal).then(resolve, reject).finally(() => clearTimeout(timer));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    service.done?.then(resolve, reject);
  });
}
