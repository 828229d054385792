import { sleep } from '../core/deadline.js';
import { createLogger } from '../core/log.js';
import { underGreengrass } from '../greengrass/component-config.js';
import type { NucleusIpc } from '../greengrass/nucleus-ipc.js';
import { exitUnlessDrainedWithin } from './until-signal.js';

/** Closing the nucleus connection at exit must not eat the rest of the nucleus's 5 s before its SIGKILL. */
const IPC_CLOSE_MS = 300;

/**
 * A long-running command's life around its nucleus connection. Under Greengrass one connection serves the
 * configuration, its updates, publishing and UpdateState: it is opened before `body` and closed after it (within
 * IPC_CLOSE_MS), then the process exits unless it has drained. Elsewhere `body` gets no connection. The IPC client
 * (aws-iot-device-sdk-v2, native aws-crt, ~20 MB of RSS) is loaded only under Greengrass.
 */
export async function withNucleus(logLevel: string | undefined, body: (ipc: NucleusIpc | undefined) => Promise<void>): Promise<void> {
  const env = process.env;
  const bootLog = createLogger((logLevel ?? 'info') as 'info');
  const ipc: NucleusIpc | undefined = underGreengrass(env)
    ? new (await import('../greengrass/adapters/ipc-client.js')).GreengrassIpc({ log: bootLog.child({ stage: 'greengrass' }), env, callTimeoutMs: 10_000 })
    : undefined;
  await ipc?.start();
  try {
    await body(ipc);
  } finally {
    if (ipc) await Promise.race([ipc.stop('exit'), sleep(IPC_CLOSE_MS, undefined, { ref: false })]);
    exitUnlessDrainedWithin();
  }
}

/** `resolving` (the configuration), or its error after telling the nucleus the component is ERRORED. */
export async function reportingErrored<T>(ipc: NucleusIpc | undefined, resolving: Promise<T>): Promise<T> {
  try {
    return await resolving;
  } catch (err) {
    await ipc?.updateState('ERRORED').catch(() => undefined);
    throw err;
  }
}
