import { isLookoutError, LookoutError, toLookoutError } from '../src/core/errors.js';
import type { AwsApis, Deployment, Progress } from './api.js';
import { type DeploymentChange, planDeployment } from './deployment-plan.js';
import { type DeviceOutcome, describeProgress, FAILED_OUTCOMES, readJobProgress } from './job-progress.js';
import { changeReporter, pollUntil } from './poll.js';
import { parseTarget } from './target-arn.js';

export type { DeviceOutcome } from './job-progress.js';

export interface WaitOptions {
  wait: boolean;
  timeoutMs: number;
  pollIntervalMs: number;
}

export interface DeploymentResult {
  deploymentId: string;
  iotJobId?: string;
  targetArn: string;
  components: Record<string, string>;
  devices: DeviceOutcome[];
}

/** The target's current deployment (ListDeployments LATEST_ONLY, then GetDeployment), if any. */
export async function currentDeployment(apis: Pick<AwsApis, 'greengrass'>, targetArn: string): Promise<Deployment | undefined> {
  const latest = await apis.greengrass.latestDeployment(targetArn);
  return latest ? apis.greengrass.getDeployment(latest.deploymentId) : undefined;
}

/** Reads the target's deployment, creates the next one (see planDeployment) and, when asked, follows it to the end. */
export async function deployToTarget(apis: Pick<AwsApis, 'greengrass' | 'iot'>, change: DeploymentChange, wait: WaitOptions, progress: Progress): Promise<DeploymentResult> {
  parseTarget(change.targetArn);
  const current = await currentDeployment(apis, change.targetArn);
  progress(current ? `current deployment ${current.deploymentId}: ${describeComponents(current.components)}` : `${change.targetArn} has no deployment yet`);
  const next = planDeployment(current, change);
  const created = await apis.greengrass.createDeployment(next);
  const components = Object.fromEntries(Object.entries(next.components).map(([name, c]) => [name, c.componentVersion]));
  progress(`created deployment ${created.deploymentId}: ${describeComponents(next.components)}`);
  const result: DeploymentResult = { deploymentId: created.deploymentId, ...(created.iotJobId ? { iotJobId: created.iotJobId } : {}), targetArn: change.targetArn, components, devices: [] };
  if (!wait.wait) return result;
  try {
    result.devices = await waitForDeployment(apis, created.deploymentId, change.targetArn, wait, progress, created.iotJobId);
  } catch (err) {
    if (current && isLookoutError(err, 'DEPLOYMENT_FAILED') && !err.retryable) await restorePrevious(apis, current, progress);
    throw err;
  }
  return result;
}

/**
 * The devices rolled a failed deployment back, but the target's latest deployment in the cloud is still the
 * failed one: devices joining the group later would install it, and the next deployment (which carries the
 * latest forward) would deploy it again. So the previous deployment is made the latest again.
 */
async function restorePrevious(apis: Pick<AwsApis, 'greengrass'>, previous: Deployment, progress: Progress): Promise<void> {
  try {
    const created = await apis.greengrass.createDeployment(planDeployment(previous, { targetArn: previous.targetArn, components: {} }));
    progress(`the deployment failed: deployment ${created.deploymentId} restores the previous components (${previous.deploymentId}) as the target's latest deployment`);
  } catch (err) {
    progress(`the deployment failed, and restoring the previous deployment failed too (${toLookoutError(err).message}): redeploy it before the next change`);
  }
}

function describeComponents(components: Record<string, { componentVersion: string }>): string {
  return Object.entries(components)
    .map(([name, c]) => `${name}@${c.componentVersion}`)
    .join(', ');
}

/**
 * Follows a deployment through its IoT job until every thing the target addresses now has finished it (or the
 * job ended), printing progress. Both targets go through the job: a deployment to one thing is a job too, so
 * there is one path, and it shows a device that has not connected yet as QUEUED where the per-device
 * ListEffectiveDeployments has nothing to say about it. Things that left the group do not hold up the wait; a
 * group without members ends at once (devices receive the deployment when they join). Any device that failed
 * (the nucleus rolled it back: the reason says FAILED_ROLLBACK_COMPLETE), or that the job ended without
 * reaching, makes this a DEPLOYMENT_FAILED naming the devices and reasons.
 */
export async function waitForDeployment(
  apis: Pick<AwsApis, 'greengrass' | 'iot'>,
  deploymentId: string,
  targetArn: string,
  options: WaitOptions,
  progress: Progress,
  iotJobId?: string,
): Promise<DeviceOutcome[]> {
  const target = parseTarget(targetArn);
  const started = Date.now();
  const report = changeReporter(progress);
  const reasons = new Map<string, string>();
  let jobId = iotJobId;
  const outcomes = await pollUntil<DeviceOutcome[]>(
    async () => {
      const deployment = await apis.greengrass.getDeployment(deploymentId);
      if (deployment.deploymentStatus === 'CANCELED' || deployment.deploymentStatus === 'FAILED') {
        throw new LookoutError('DEPLOYMENT_FAILED', `deployment ${deploymentId} is ${deployment.deploymentStatus}`, { details: { deploymentId } });
      }
      jobId ??= deployment.iotJobId;
      if (!jobId) {
        report(`deployment ${deploymentId}: waiting for its IoT job`);
        return { done: false };
      }
      const state = await readJobProgress(apis, jobId, target, reasons);
      if (state.devices.length === 0) {
        progress(`deployment ${deploymentId}: no thing in the group yet; devices receive it when they join`);
        return { done: true, value: [] };
      }
      report(`deployment ${deploymentId}: ${describeProgress(state)} (${Math.round((Date.now() - started) / 1000)} s)`);
      return state.done ? { done: true, value: state.devices } : { done: false };
    },
    { timeoutMs: options.timeoutMs, intervalMs: options.pollIntervalMs, what: `deployment ${deploymentId}` },
  );
  const failures = outcomes.filter((o) => FAILED_OUTCOMES.has(o.status));
  if (failures.length > 0) {
    throw new LookoutError(
      'DEPLOYMENT_FAILED',
      `deployment ${deploymentId} failed on ${failures.length} of ${outcomes.length} devices: ${failures.map((f) => `${f.thingName} ${f.status}${f.reason ? ` (${f.reason})` : ''}`).join('; ')}`,
      { details: { deploymentId, iotJobId: jobId, devices: outcomes } },
    );
  }
  return outcomes;
}
