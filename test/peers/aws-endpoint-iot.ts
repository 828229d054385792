import { randomUUID } from 'node:crypto';

/**
 * The AWS IoT Jobs side of the AWS stand-in (test/peers/aws-endpoint.ts): the job behind each Greengrass
 * deployment and its executions, as the IoT API reference and the Greengrass developer guide describe them:
 * - a deployment to a thing or thing group is rolled out by a CONTINUOUS job ("Check deployment status");
 *   creating a new revision for the target CANCELs the previous revision's job;
 * - a thing in the target (child groups included) gets a QUEUED execution, a thing that joins later gets one
 *   then; a thing removed from the group is "no longer scheduled" (QUEUED → REMOVED, counted in
 *   `jobProcessDetails.numberOfRemovedThings`), an execution already IN_PROGRESS keeps its last state;
 * - the nucleus reports a failure in the execution's `statusDetails.detailsMap` (`deployment-failure-cause`,
 *   `detailed-deployment-status`).
 * How a device moves through its execution is the test's `deviceProgress`, asked each time the execution is
 * observed (ListJobExecutionsForJob, ListEffectiveDeployments).
 */

export interface StoredExecution {
  thingName: string;
  status: string;
  detailsMap: Record<string, string>;
  executionNumber: number;
  queuedAt: number;
  lastUpdatedAt: number;
}

export interface StoredJob {
  jobId: string;
  jobArn: string;
  deploymentId: string;
  targetArn: string;
  status: 'IN_PROGRESS' | 'CANCELED' | 'COMPLETED';
  reasonCode?: string;
  comment?: string;
  createdAt: number;
  lastUpdatedAt: number;
  executions: Map<string, StoredExecution>;
}

export interface ExecutionReport {
  status: string;
  /** Becomes `deployment-failure-cause`. */
  reason?: string;
  /** Becomes `detailed-deployment-status` (FAILED_ROLLBACK_COMPLETE for a failure when not given). */
  detailedStatus?: string;
}

export interface JobWorld {
  region: string;
  account: string;
  /** The things a target addresses now (a thing group's members, child groups included). */
  membersOf(targetArn: string): string[];
  progress(deploymentId: string, thingName: string, call: number): ExecutionReport;
  /** A thing finished a deployment to this target successfully. */
  succeeded(thingName: string, targetArn: string): void;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELED', 'REMOVED']);
const now = () => Date.now() / 1000;

export class IotJobsModel {
  readonly jobs = new Map<string, StoredJob>();
  /** Page size of the IoT listings at most (smaller than the SDK's maxResults to exercise nextToken). */
  pageSize = 250;
  private readonly observed = new Map<string, number>();

  constructor(private readonly world: JobWorld) {}

  /** The job of a new deployment; the target's previous job is canceled. */
  create(deploymentId: string, targetArn: string): StoredJob {
    for (const previous of this.jobs.values()) {
      if (previous.targetArn === targetArn && previous.status === 'IN_PROGRESS') this.cancel(previous, 'a newer deployment revision replaced it');
    }
    const jobId = randomUUID();
    const job: StoredJob = {
      jobId,
      jobArn: `arn:aws:iot:${this.world.region}:${this.world.account}:job/${jobId}`,
      deploymentId,
      targetArn,
      status: 'IN_PROGRESS',
      createdAt: now(),
      lastUpdatedAt: now(),
      executions: new Map(),
    };
    this.jobs.set(jobId, job);
    this.sync(job);
    return job;
  }

  cancel(job: StoredJob, comment: string, reasonCode?: string): void {
    job.status = 'CANCELED';
    job.comment = comment;
    if (reasonCode) job.reasonCode = reasonCode;
    for (const e of job.executions.values()) if (e.status === 'QUEUED') this.set(e, { status: 'CANCELED' });
  }

  forDeployment(deploymentId: string): StoredJob | undefined {
    return [...this.jobs.values()].find((j) => j.deploymentId === deploymentId);
  }

  /** Brings the executions in line with the target's members now. */
  sync(job: StoredJob): void {
    const members = new Set(this.world.membersOf(job.targetArn));
    for (const e of job.executions.values()) {
      if (!members.has(e.thingName) && e.status === 'QUEUED') this.set(e, { status: 'REMOVED' });
    }
    if (job.status !== 'IN_PROGRESS') return;
    for (const thingName of members) {
      const previous = job.executions.get(thingName);
      if (previous && previous.status !== 'REMOVED') continue;
      job.executions.set(thingName, { thingName, status: 'QUEUED', detailsMap: {}, executionNumber: (previous?.executionNumber ?? 0) + 1, queuedAt: now(), lastUpdatedAt: now() });
    }
  }

  /** One observation of a thing's execution: a running one moves on as `progress` says. */
  observe(job: StoredJob, thingName: string): StoredExecution | undefined {
    this.sync(job);
    const e = job.executions.get(thingName);
    if (!e || TERMINAL.has(e.status) || job.status !== 'IN_PROGRESS' || !this.world.membersOf(job.targetArn).includes(thingName)) return e;
    const key = `${job.deploymentId}/${thingName}`;
    const call = (this.observed.get(key) ?? 0) + 1;
    this.observed.set(key, call);
    this.set(e, this.world.progress(job.deploymentId, thingName, call));
    if (e.status === 'SUCCEEDED' || e.status === 'COMPLETED') this.world.succeeded(thingName, job.targetArn);
    return e;
  }

  private set(e: StoredExecution, report: ExecutionReport): void {
    e.status = report.status;
    e.lastUpdatedAt = now();
    const failed = ['FAILED', 'REJECTED'].includes(report.status);
    if (report.reason) e.detailsMap['deployment-failure-cause'] = report.reason;
    if (report.detailedStatus || failed) e.detailsMap['detailed-deployment-status'] = report.detailedStatus ?? 'FAILED_ROLLBACK_COMPLETE';
    if (report.status === 'SUCCEEDED') e.detailsMap['detailed-deployment-status'] = 'SUCCESSFUL';
  }

  /** DescribeJob `GET /jobs/{jobId}`. */
  describeJob(jobId: string): unknown {
    const job = this.jobs.get(jobId);
    if (!job) return undefined;
    this.sync(job);
    const count = (status: string) => [...job.executions.values()].filter((e) => e.status === status).length;
    return {
      documentSource: null,
      job: {
        jobArn: job.jobArn,
        jobId: job.jobId,
        targetSelection: 'CONTINUOUS',
        status: job.status,
        targets: [job.targetArn],
        ...(job.reasonCode ? { reasonCode: job.reasonCode } : {}),
        ...(job.comment ? { comment: job.comment } : {}),
        createdAt: job.createdAt,
        lastUpdatedAt: job.lastUpdatedAt,
        jobProcessDetails: {
          numberOfCanceledThings: count('CANCELED'),
          numberOfSucceededThings: count('SUCCEEDED'),
          numberOfFailedThings: count('FAILED'),
          numberOfRejectedThings: count('REJECTED'),
          numberOfQueuedThings: count('QUEUED'),
          numberOfInProgressThings: count('IN_PROGRESS'),
          numberOfRemovedThings: count('REMOVED'),
          numberOfTimedOutThings: count('TIMED_OUT'),
        },
      },
    };
  }

  /** ListJobExecutionsForJob `GET /jobs/{jobId}/things?status&maxResults&nextToken`. */
  listExecutions(jobId: string, query: URLSearchParams): unknown {
    const job = this.jobs.get(jobId);
    if (!job) return undefined;
    this.sync(job);
    const status = query.get('status');
    const all = [...job.executions.values()].filter((e) => !status || e.status === status);
    const { page, nextToken } = this.page(all, query);
    return {
      executionSummaries: page.map((e) => {
        const current = this.observe(job, e.thingName) ?? e;
        return {
          thingArn: this.thingArn(e.thingName),
          jobExecutionSummary: { status: current.status, queuedAt: current.queuedAt, lastUpdatedAt: current.lastUpdatedAt, executionNumber: current.executionNumber },
        };
      }),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  /** DescribeJobExecution `GET /things/{thingName}/jobs/{jobId}`. */
  describeExecution(jobId: string, thingName: string): unknown {
    const job = this.jobs.get(jobId);
    const e = job?.executions.get(thingName);
    if (!job || !e) return undefined;
    return {
      execution: {
        jobId,
        status: e.status,
        statusDetails: { detailsMap: e.detailsMap },
        thingArn: this.thingArn(thingName),
        queuedAt: e.queuedAt,
        lastUpdatedAt: e.lastUpdatedAt,
        executionNumber: e.executionNumber,
        versionNumber: 1,
      },
    };
  }

  /** One page of a listing: `maxResults` (capped by `pageSize`) from the offset in `nextToken`. */
  page<T>(all: T[], query: URLSearchParams): { page: T[]; nextToken?: string } {
    const size = Math.min(Number(query.get('maxResults') ?? 250), this.pageSize);
    const from = Number(query.get('nextToken') ?? 0);
    const page = all.slice(from, from + size);
    return from + size < all.length ? { page, nextToken: String(from + size) } : { page };
  }

  thingArn(thingName: string): string {
    return `arn:aws:iot:${this.world.region}:${this.world.account}:thing/${thingName}`;
  }
}
