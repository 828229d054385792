import { LookoutError, isLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { type ModelInfo, ModelStatus } from '../core/model.js';
import { sleepUnlessStopped } from './retry.js';

export interface EnsureRunningDeps {
  readonly component: string;
  readonly describe: () => Promise<ModelInfo>;
  readonly start: () => Promise<ModelStatus>;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  readonly signal?: AbortSignal;
  readonly log: Logger;
}

/**
 * Brings a model to RUNNING the way the Edge Agent expects:
 *   RUNNING → done · STOPPED/FAILED → StartModel, then poll · STARTING → poll · STOPPING → poll until
 *   STOPPED, then StartModel.
 * A model that goes FAILED after we started it is MODEL_FAILED (with the agent's status message); not
 * RUNNING within `timeoutMs` is MODEL_NOT_RUNNING. A StartModel that loses a race (FAILED_PRECONDITION
 * because someone else started it) just keeps polling. A model the agent does not know (yet) is polled for
 * until the deadline too, then MODEL_NOT_FOUND.
 */
export async function ensureModelRunning(deps: EnsureRunningDeps): Promise<ModelInfo> {
  const { component, log } = deps;
  const deadline = Date.now() + deps.timeoutMs;
  let startedByUs = false;
  let last: ModelInfo | undefined;
  let waitingForDeployment = false;
  for (;;) {
    let info: ModelInfo;
    try {
      info = await deps.describe();
    } catch (err) {
      // Not on the model server yet: a deployment delivers the model component and the configurations of
      // both programs without an order between them, so the model may appear a while later.
      if (!isLookoutError(err, 'MODEL_NOT_FOUND')) throw err;
      if (!waitingForDeployment) log.info({ component }, 'model not on the model server yet; waiting for it');
      waitingForDeployment = true;
      const left = deadline - Date.now();
      if (left <= 0) throw err;
      await sleepUnlessStopped(Math.min(deps.pollIntervalMs, left), deps.signal);
      continue;
    }
    if (info.status !== last?.status) log.info({ component, status: ModelStatus[info.status], message: info.statusMessage }, 'model status');
    last = info;
    if (info.status === ModelStatus.RUNNING) return info;
    if (info.status === ModelStatus.FAILED && startedByUs) {
      throw new LookoutError('MODEL_FAILED', `model ${component} failed to start: ${info.statusMessage}`, { details: { component, statusMessage: info.statusMessage } });
    }
    if (info.status === ModelStatus.STOPPED || info.status === ModelStatus.FAILED) {
      try {
        await deps.start();
        startedByUs = true;
        continue; // describe again at once: a fast model may already be RUNNING
      } catch (err) {
        if (!isLookoutError(err, 'MODEL_NOT_RUNNING')) throw err;
        startedByUs = true; // someone else started it: wait for it like our own start
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new LookoutError('MODEL_NOT_RUNNING', `model ${component} not RUNNING after ${deps.timeoutMs} ms (last status ${ModelStatus[info.status]})`, {
        details: { component, status: ModelStatus[info.status] },
      });
    }
    await sleepUnlessStopped(Math.min(deps.pollIntervalMs, left), deps.signal);
  }
}
