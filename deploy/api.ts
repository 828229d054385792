/**
 * The narrow interfaces the fleet commands use. The AWS SDK clients that implement them live in
 * deploy/adapters/; these types are plain data so that the commands never see an SDK type.
 */

export type ComponentState = 'REQUESTED' | 'INITIATED' | 'DEPLOYABLE' | 'FAILED' | 'DEPRECATED';

export interface ComponentVersionStatus {
  arn: string;
  componentName: string;
  componentVersion: string;
  state: ComponentState | string;
  message?: string;
  errors?: Record<string, string>;
}

export interface ConfigurationUpdate {
  /** A JSON document, as Greengrass takes it. */
  merge?: string;
  reset?: string[];
}

export interface DeploymentComponent {
  componentVersion: string;
  configurationUpdate?: ConfigurationUpdate;
  runWith?: Record<string, unknown>;
}

export interface DeploymentSummary {
  deploymentId: string;
  deploymentName?: string;
  targetArn: string;
  revisionId?: string;
  deploymentStatus?: string;
  isLatestForTarget?: boolean;
  creationTimestamp?: Date;
}

export interface Deployment extends DeploymentSummary {
  components: Record<string, DeploymentComponent>;
  /** The IoT job that rolls the deployment out to the target's things (a thing group's, or one thing's). */
  iotJobId?: string;
  deploymentPolicies?: Record<string, unknown>;
  iotJobConfiguration?: Record<string, unknown>;
}

export interface RolloutConfig {
  /** Devices notified per minute at most. */
  maximumPerMinute?: number;
  exponentialRate?: {
    baseRatePerMinute: number;
    incrementFactor: number;
    rateIncreaseCriteria: { numberOfNotifiedThings?: number; numberOfSucceededThings?: number };
  };
}

export interface AbortCriterion {
  failureType: 'FAILED' | 'REJECTED' | 'TIMED_OUT' | 'ALL';
  action: 'CANCEL';
  thresholdPercentage: number;
  minNumberOfExecutedThings: number;
}

export interface NewDeployment {
  targetArn: string;
  deploymentName: string;
  components: Record<string, DeploymentComponent>;
  iotJobConfiguration: {
    jobExecutionsRolloutConfig?: RolloutConfig;
    abortConfig?: { criteriaList: AbortCriterion[] };
    timeoutConfig?: { inProgressTimeoutInMinutes: number };
  };
  deploymentPolicies: {
    failureHandlingPolicy: 'ROLLBACK' | 'DO_NOTHING';
    componentUpdatePolicy?: { timeoutInSeconds: number; action: 'NOTIFY_COMPONENTS' | 'SKIP_NOTIFY_COMPONENTS' };
    configurationValidationPolicy?: { timeoutInSeconds: number };
  };
  /** Idempotency token: a retried CreateDeployment does not create a second revision. */
  clientToken: string;
}

export interface CoreDevice {
  thingName: string;
  status: string;
  lastStatusUpdate?: Date;
  platform?: string;
  architecture?: string;
}

export interface EffectiveDeployment {
  deploymentId: string;
  deploymentName?: string;
  targetArn?: string;
  status: string;
  reason?: string;
  errorTypes?: string[];
  modified?: Date;
}

export interface InstalledComponent {
  componentName: string;
  componentVersion: string;
  lifecycleState: string;
  lifecycleStateDetails?: string;
  isRoot?: boolean;
  statusCodes?: string[];
}

export interface GreengrassApi {
  /** One core device; undefined for a thing that is not (yet) a Greengrass core device. */
  getCoreDevice(thingName: string): Promise<CoreDevice | undefined>;
  createComponentVersion(recipe: string, clientToken: string): Promise<ComponentVersionStatus>;
  describeComponent(arn: string): Promise<ComponentVersionStatus>;
  /** The target's latest deployment, if it has one. */
  latestDeployment(targetArn: string): Promise<DeploymentSummary | undefined>;
  getDeployment(deploymentId: string): Promise<Deployment>;
  createDeployment(deployment: NewDeployment): Promise<{ deploymentId: string; iotJobId?: string }>;
  listCoreDevices(filter: { thingGroupArn?: string }): Promise<CoreDevice[]>;
  listEffectiveDeployments(thingName: string): Promise<EffectiveDeployment[]>;
  listInstalledComponents(thingName: string): Promise<InstalledComponent[]>;
}

/** IoT job states (DescribeJob `job.status`); Greengrass deployment jobs are CONTINUOUS, so never COMPLETED on their own. */
export type JobStatus = 'IN_PROGRESS' | 'CANCELED' | 'COMPLETED' | 'DELETION_IN_PROGRESS' | 'SCHEDULED';

/** Job execution states; all but QUEUED and IN_PROGRESS are terminal. */
export type JobExecutionStatus = 'QUEUED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'REJECTED' | 'REMOVED' | 'CANCELED';

/** DescribeJob `jobProcessDetails`: how many things are in each execution state. */
export interface JobCounts {
  queued: number;
  inProgress: number;
  succeeded: number;
  failed: number;
  rejected: number;
  timedOut: number;
  canceled: number;
  /** No longer scheduled: the thing was deleted or removed from the target group. */
  removed: number;
}

export interface IotJob {
  jobId: string;
  status: JobStatus | string;
  counts: JobCounts;
  reasonCode?: string;
  comment?: string;
}

export interface JobExecution {
  thingName: string;
  status: JobExecutionStatus | string;
  /** DescribeJobExecution `statusDetails.detailsMap`; the nucleus puts `deployment-failure-cause` and `detailed-deployment-status` there. */
  details?: Record<string, string>;
}

export interface IotJobsApi {
  describeJob(jobId: string): Promise<IotJob>;
  /** Every execution of the job (ListJobExecutionsForJob, all pages), without details. */
  listJobExecutions(jobId: string): Promise<JobExecution[]>;
  /** One thing's execution with its status details; undefined when the thing has none. */
  describeJobExecution(jobId: string, thingName: string): Promise<JobExecution | undefined>;
  /** The things in a thing group now, child groups included (ListThingsInThingGroup recursive, all pages). */
  listThingsInGroup(thingGroupName: string): Promise<string[]>;
}

export interface ArtifactStore {
  /** Uploads a local file to s3://bucket/key. */
  put(bucket: string, key: string, file: string): Promise<void>;
}

export interface ModelPackagingRequest {
  projectName: string;
  modelVersion: string;
  jobName?: string;
  description?: string;
  componentName: string;
  componentVersion?: string;
  componentDescription?: string;
  bucket: string;
  prefix?: string;
  targetDevice?: 'jetson_xavier';
  targetPlatform?: { os: 'LINUX'; arch: 'ARM64' | 'X86_64'; accelerator?: 'NVIDIA' };
  compilerOptions?: string;
  clientToken: string;
}

export interface ModelPackagingJob {
  jobName: string;
  status: 'CREATED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | string;
  statusMessage?: string;
  componentName?: string;
  componentVersion?: string;
  componentVersionArn?: string;
}

export interface LookoutVisionApi {
  startModelPackagingJob(request: ModelPackagingRequest): Promise<{ jobName: string }>;
  describeModelPackagingJob(projectName: string, jobName: string): Promise<ModelPackagingJob>;
}

export interface AwsApis {
  greengrass: GreengrassApi;
  iot: IotJobsApi;
  s3: ArtifactStore;
  lookoutVision: LookoutVisionApi;
}

/** What the commands print while they wait: one line per change, to stderr. */
export interface Progress {
  (line: string): void;
}
