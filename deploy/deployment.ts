import { LookoutError } from '../src/core/errors.js';
import type { AwsApis, Deployment, EffectiveDeployment, Progress } from './api.js';
import { type DeploymentChange, planDeployment } from './deployment-plan.js';
import { mapLimit } from './map-limit.js';
import { changeReporter, pollUntil } from './poll.js';

/** Per-device status calls in flight at once while following a deployment. */
const DEVICE_CALLS_IN_FLIGHT = 8;

export interface WaitOptions {
  wait: boolean;
  timeoutMs: number;
  pollIntervalMs: number;
}

export interface DeviceOutcome {
  thingName: string;
  status: string;
  reason?: string;
}

export interface DeploymentResult {
  deploymentId: string;
  targetArn: string;
  components: Record<string, string>;
  devices: DeviceOutcome[];
}

const SUCCEEDED = new Set(['SUCCEEDED', 'COMPLETED']);
const FAILED = new Set(['FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELED']);

/** The target's current deployment (ListDeployments LATEST_ONLY, then GetDeployment), if any. */
export async function currentDeployment(apis: Pick<AwsApis, 'greengrass'>, targetArn: string): Promise<Deployment | undefined> {
  const latest = await apis.greengrass.latestDeployment(targetArn);
  return latest ? apis.greengrass.getDeployment(latest.deploymentId) : undefined;
}

/** Reads the target's deployment, creates the next one (see planDeployment) and, when asked, follows it to the end. */
export async function deployToTarget(apis: Pick<AwsApis, 'greengrass'>, change: DeploymentChange, wait: WaitOptions, progress: Progress): Promise<DeploymentResult> {
  const current = await currentDeployment(apis, change.targetArn);
  progress(current ? `current deployment ${current.deploymentId}: ${describeComponents(current.components)}` : `${change.targetArn} has no deployment yet`);
  const next = planDeployment(current, change);
  const created = await apis.greengrass.createDeployment(next);
  const components = Object.fromEntries(Object.entries(next.components).map(([name, c]) => [name, c.componentVersion]));
  progress(`created deployment ${created.deploymentId}: ${describeComponents(next.components)}`);
  const result: DeploymentResult = { deploymentId: created.deploymentId, targetArn: change.targetArn, components, devices: [] };
  if (!wait.wait) return result;
  result.devices = await waitForDeployment(apis, created.deploymentId, change.targetArn, wait, progress);
  return result;
}

function describeComponents(components: Record<string, { componentVersion: string }>): string {
  return Object.entries(components)
    .map(([name, c]) => `${name}@${c.componentVersion}`)
    .join(', ');
}

/** `arn:aws:iot:<region>:<account>:thing/<name>` → the thing name; thing groups give undefined. */
export function thingNameOf(targetArn: string): string | undefined {
  return /:thing\/([^/]+)$/.exec(targetArn)?.[1];
}

/**
 * Follows a deployment on every core device of the target until each has finished it, printing progress.
 * Any device that failed (the nucleus rolled it back) makes this a DEPLOYMENT_FAILED naming the devices and reasons.
 */
export async function waitForDeployment(apis: Pick<AwsApis, 'greengrass'>, deploymentId: string, targetArn: string, options: WaitOptions, progress: Progress): Promise<DeviceOutcome[]> {
  const started = Date.now();
  const report = changeReporter(progress);
  const outcomes = await pollUntil<DeviceOutcome[]>(
    async () => {
      const deployment = await apis.greengrass.getDeployment(deploymentId);
      if (deployment.deploymentStatus === 'CANCELED' || deployment.deploymentStatus === 'FAILED') {
        throw new LookoutError('DEPLOYMENT_FAILED', `deployment ${deploymentId} is ${deployment.deploymentStatus}`, { details: { deploymentId } });
      }
      const thing = thingNameOf(targetArn);
      const devices = thing ? [thing] : (await apis.greengrass.listCoreDevices({ thingGroupArn: targetArn })).map((d) => d.thingName);
      if (devices.length === 0) {
        progress(`deployment ${deploymentId}: no core device in the group yet; devices receive it when they join`);
        return { done: true, value: [] };
      }
      const outcomes = await mapLimit(devices, DEVICE_CALLS_IN_FLIGHT, async (thingName): Promise<DeviceOutcome> => {
        const effective = (await apis.greengrass.listEffectiveDeployments(thingName)).find((d: EffectiveDeployment) => d.deploymentId === deploymentId);
        const reason = effective?.reason ?? effective?.errorTypes?.join(', ');
        return { thingName, status: effective?.status ?? 'PENDING', ...(reason ? { reason } : {}) };
      });
      const succeeded = outcomes.filter((o) => SUCCEEDED.has(o.status)).length;
      const failed = outcomes.filter((o) => FAILED.has(o.status)).length;
      const running = outcomes.length - succeeded - failed;
      report(`deployment ${deploymentId}: ${succeeded}/${outcomes.length} succeeded, ${running} in progress, ${failed} failed (${Math.round((Date.now() - started) / 1000)} s)`);
      return running === 0 ? { done: true, value: outcomes } : { done: false };
    },
    { timeoutMs: options.timeoutMs, intervalMs: options.pollIntervalMs, what: `deployment ${deploymentId}` },
  );
  const failures = outcomes.filter((o) => FAILED.has(o.status));
  if (failures.length > 0) {
    throw new LookoutError(
      'DEPLOYMENT_FAILED',
      `deployment ${deploymentId} failed on ${failures.length} of ${outcomes.length} devices (rolled back): ${failures.map((f) => `${f.thingName} ${f.status}${f.reason ? ` (${f.reason})` : ''}`).join('; ')}`,
      { details: { deploymentId, devices: outcomes } },
    );
  }
  return outcomes;
}
