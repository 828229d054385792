import type { AwsApis, IotJob, JobCounts } from './api.js';
import { mapLimit } from './map-limit.js';
import type { Target } from './target-arn.js';

/**
 * Where a Greengrass deployment stands on the things its target addresses *now*, read from the deployment's
 * IoT job. ListCoreDevices filtered by a thing group is no use for this: it lists only core devices that
 * already deployed to the group and keeps devices removed from it (GreengrassV2 API reference,
 * ListCoreDevices `thingGroupArn`), so a first deployment would look finished at once and a removed device
 * would hold the wait until its deadline.
 */

/** Per-device calls (DescribeJobExecution for a failure's reason) in flight at once. */
const CALLS_IN_FLIGHT = 8;

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELED', 'REMOVED']);
/** Outcomes that fail the deployment; NOT_RUN is a member the job ended without reaching. */
export const FAILED_OUTCOMES = new Set(['FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELED', 'NOT_RUN']);
/** A job in one of these states starts no more executions. Greengrass jobs are CONTINUOUS: CANCELED when a newer revision replaces the deployment or its abort criteria stop it. */
const JOB_ENDED = new Set(['COMPLETED', 'CANCELED', 'DELETION_IN_PROGRESS']);

export interface DeviceOutcome {
  thingName: string;
  /** The job execution's status; QUEUED also for a member the job has not reached yet. */
  status: string;
  reason?: string;
}

export interface JobProgress {
  job: { jobId: string; status: string; counts: JobCounts };
  /** One per thing the target addresses now, in the order listed. */
  devices: DeviceOutcome[];
  /** Things with an execution of this job that are no longer in the group: not waited for. */
  departed: string[];
  /** Every current member's execution is terminal, or the job ended. */
  done: boolean;
}

/** The things the target addresses now: the thing itself, or the group's members including its child groups. */
export async function targetThings(apis: Pick<AwsApis, 'iot'>, target: Target): Promise<string[]> {
  if (target.kind === 'thing') return [target.name];
  return [...new Set(await apis.iot.listThingsInGroup(target.name))];
}

/**
 * One look at the job: DescribeJob (its state and counts), ListJobExecutionsForJob (each thing's state),
 * the target's current things, and, for each member that failed, DescribeJobExecution's status details
 * (the nucleus reports `deployment-failure-cause` and `detailed-deployment-status` there), asked once per
 * thing and remembered in `reasons`.
 */
export async function readJobProgress(apis: Pick<AwsApis, 'iot'>, jobId: string, target: Target, reasons: Map<string, string>): Promise<JobProgress> {
  const [job, executions, members] = await Promise.all([apis.iot.describeJob(jobId), apis.iot.listJobExecutions(jobId), targetThings(apis, target)]);
  const byThing = new Map(executions.map((e) => [e.thingName, e.status]));
  const ended = JOB_ENDED.has(job.status);
  const devices: DeviceOutcome[] = members.map((thingName) => {
    const status = byThing.get(thingName) ?? 'QUEUED';
    return { thingName, status: ended && !TERMINAL.has(status) ? 'NOT_RUN' : status };
  });
  await mapLimit(
    devices.filter((d) => FAILED_OUTCOMES.has(d.status) && !reasons.has(d.thingName)),
    CALLS_IN_FLIGHT,
    async (d) => reasons.set(d.thingName, await failureReason(apis, job, d)),
  );
  for (const d of devices) {
    const reason = FAILED_OUTCOMES.has(d.status) ? reasons.get(d.thingName) : undefined;
    if (reason) d.reason = reason;
  }
  const memberSet = new Set(members);
  return {
    job: { jobId, status: job.status, counts: job.counts },
    devices,
    departed: executions.filter((e) => !memberSet.has(e.thingName)).map((e) => e.thingName),
    done: ended || devices.every((d) => TERMINAL.has(d.status)),
  };
}

async function failureReason(apis: Pick<AwsApis, 'iot'>, job: IotJob, device: DeviceOutcome): Promise<string> {
  const jobEnded = `the deployment's IoT job ${job.jobId} is ${job.status}${job.reasonCode ? ` (${job.reasonCode})` : ''}${job.comment ? `: ${job.comment}` : ''}`;
  if (device.status === 'NOT_RUN') return `${jobEnded} before this device ran it`;
  const execution = await apis.iot.describeJobExecution(job.jobId, device.thingName);
  const details = execution?.details ?? {};
  const cause = details['deployment-failure-cause'];
  const detailed = details['detailed-deployment-status'];
  if (cause) return detailed ? `${cause} (${detailed})` : cause;
  if (detailed) return detailed;
  const other = Object.entries(details).map(([k, v]) => `${k}: ${v}`).join(', ');
  if (other) return other;
  return device.status === 'CANCELED' ? jobEnded : `no reason reported (${device.status})`;
}

/** One line: `2/3 succeeded, 1 in progress, 0 queued, 0 failed`, plus removed and departed things when there are any. */
export function describeProgress(p: JobProgress): string {
  const count = (...states: string[]) => p.devices.filter((d) => states.includes(d.status)).length;
  const failed = p.devices.filter((d) => FAILED_OUTCOMES.has(d.status)).length;
  const parts = [`${count('SUCCEEDED')}/${p.devices.length} succeeded`, `${count('IN_PROGRESS')} in progress`, `${count('QUEUED')} queued`, `${failed} failed`];
  if (count('REMOVED') > 0) parts.push(`${count('REMOVED')} removed`);
  if (p.departed.length > 0) parts.push(`${p.departed.length} no longer in the group (not waited for)`);
  return parts.join(', ');
}
