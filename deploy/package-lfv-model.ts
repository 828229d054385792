import { randomUUID } from 'node:crypto';
import { isLookoutError, LookoutError } from '../src/core/errors.js';
import type { AwsApis, ModelPackagingJob, ModelPackagingRequest, Progress } from './api.js';
import { changeReporter, pollUntil } from './poll.js';

export interface PackagingOptions {
  timeoutMs: number;
  pollIntervalMs: number;
}

const ENDED = /end of support|end-of-support|no longer (available|supported|accept)|discontinued|has ended|service (is )?(closed|ended|retired)|end of life|end-of-life|not available to new|deprecated/i;
const ENDED_ERRORS = new Set(['AccessDeniedException', 'ValidationException', 'ResourceNotFoundException', 'ServiceUnavailableException', 'UnknownOperationException']);

const endedMessage = (why: string) =>
  `Amazon Lookout for Vision no longer packages models (the service ended on 2025-10-31): ${why}. ` +
  'Train a model with `lookout-edge train` (or bring an ONNX model) and roll it out with `lookout-edge deploy rollout-model`.';

/** Lookout for Vision's refusals that mean "the service has ended" become SERVICE_ENDED; others stay as they are. */
export function asServiceEnded(err: unknown): unknown {
  if (!isLookoutError(err, 'AWS_REQUEST_FAILED')) return err;
  const name = String(err.details?.awsError ?? '');
  if (err.details?.unreachable === true) return new LookoutError('SERVICE_ENDED', endedMessage(`its endpoint cannot be reached (${err.message})`), { cause: err });
  if (ENDED_ERRORS.has(name) && ENDED.test(err.message)) return new LookoutError('SERVICE_ENDED', endedMessage(`the service answered ${err.message}`), { cause: err });
  return err;
}

/**
 * StartModelPackagingJob for accounts where Lookout for Vision still answers, then DescribeModelPackagingJob
 * until SUCCEEDED or FAILED, with a deadline. The result is a Greengrass model component for AWS's Edge Agent.
 */
export async function packageLfvModel(apis: Pick<AwsApis, 'lookoutVision'>, request: Omit<ModelPackagingRequest, 'clientToken'>, options: PackagingOptions, progress: Progress): Promise<ModelPackagingJob> {
  try {
    const { jobName } = await apis.lookoutVision.startModelPackagingJob({ ...request, clientToken: randomUUID() });
    progress(`model packaging job ${jobName} started for ${request.projectName} model ${request.modelVersion}`);
    const report = changeReporter(progress);
    const job = await pollUntil<ModelPackagingJob>(
      async () => {
        const status = await apis.lookoutVision.describeModelPackagingJob(request.projectName, jobName);
        report(`model packaging job ${jobName}: ${status.status}${status.statusMessage ? ` (${status.statusMessage})` : ''}`);
        return status.status === 'SUCCEEDED' || status.status === 'FAILED' ? { done: true, value: status } : { done: false };
      },
      { timeoutMs: options.timeoutMs, intervalMs: options.pollIntervalMs, what: `model packaging job ${jobName}` },
    );
    if (job.status === 'FAILED') {
      const message = job.statusMessage ?? 'no reason given';
      if (ENDED.test(message)) throw new LookoutError('SERVICE_ENDED', endedMessage(`the packaging job failed: ${message}`));
      throw new LookoutError('DEPLOYMENT_FAILED', `model packaging job ${jobName} FAILED: ${message}`, { details: { jobName } });
    }
    return job;
  } catch (err) {
    throw asServiceEnded(err);
  }
}
