import { readFile } from 'node:fs/promises';
import {
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  DescribeComponentCommand,
  GetCoreDeviceCommand,
  GetDeploymentCommand,
  GreengrassV2Client,
  ListCoreDevicesCommand,
  ListDeploymentsCommand,
  ListEffectiveDeploymentsCommand,
  ListInstalledComponentsCommand,
} from '@aws-sdk/client-greengrassv2';
import { IoTClient } from '@aws-sdk/client-iot';
import { DescribeModelPackagingJobCommand, LookoutVisionClient, StartModelPackagingJobCommand } from '@aws-sdk/client-lookoutvision';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore, AwsApis, ComponentVersionStatus, CoreDevice, GreengrassApi, LookoutVisionApi } from '../api.js';
import { createIotJobsApi } from './iot-jobs.js';
import { call, callOrMissing, paginate } from './sdk-call.js';

/** Region, endpoint and credentials come from the standard AWS chain unless given here. */
export interface AwsOptions {
  region?: string;
  /** One endpoint for every service (tests, LocalStack-like gateways). S3 then uses path-style addressing. */
  endpointUrl?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The SDK's standard retry strategy (throttling, 5xx, network) with this many attempts at most. */
  maxAttempts?: number;
  /** Socket connect and idle timeouts of each HTTP request. */
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Deadline of one call including its retries. */
  callDeadlineMs?: number;
  /** Deadline of one artifact upload. */
  uploadDeadlineMs?: number;
}

export function createAwsApis(options: AwsOptions = {}): AwsApis {
  // The SDK warns on every run that its 2027 releases will need Node 22; the release we pin supports 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const common = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: options.maxAttempts ?? 5,
    retryMode: 'standard',
    requestHandler: { connectionTimeout: options.connectTimeoutMs ?? 5_000, requestTimeout: options.requestTimeoutMs ?? 30_000 },
  };
  const deadline = () => ({ abortSignal: AbortSignal.timeout(options.callDeadlineMs ?? 120_000) });
  const greengrass = new GreengrassV2Client(common);
  const s3 = new S3Client({ ...common, forcePathStyle: Boolean(options.endpointUrl), requestChecksumCalculation: 'WHEN_REQUIRED' });
  const lookoutVision = new LookoutVisionClient(common);
  const iot = new IoTClient(common);

  const componentStatus = (out: {
    arn?: string;
    componentName?: string;
    componentVersion?: string;
    status?: { componentState?: string; message?: string; errors?: Record<string, string> };
  }): ComponentVersionStatus => ({
    arn: out.arn ?? '',
    componentName: out.componentName ?? '',
    componentVersion: out.componentVersion ?? '',
    state: out.status?.componentState ?? 'REQUESTED',
    ...(out.status?.message && out.status.message !== 'NONE' ? { message: out.status.message } : {}),
    ...(out.status?.errors && Object.keys(out.status.errors).length > 0 ? { errors: out.status.errors } : {}),
  });

  const coreDevice = (d: { coreDeviceThingName?: string; status?: string; lastStatusUpdateTimestamp?: Date; platform?: string; architecture?: string }): CoreDevice => ({
    thingName: d.coreDeviceThingName ?? '',
    status: d.status ?? 'UNKNOWN',
    ...(d.lastStatusUpdateTimestamp ? { lastStatusUpdate: d.lastStatusUpdateTimestamp } : {}),
    ...(d.platform ? { platform: d.platform } : {}),
    ...(d.architecture ? { architecture: d.architecture } : {}),
  });

  const gg: GreengrassApi = {
    createComponentVersion: (recipe, clientToken) =>
      call('CreateComponentVersion', async () =>
        componentStatus(await greengrass.send(new CreateComponentVersionCommand({ inlineRecipe: Buffer.from(recipe, 'utf8'), clientToken }), deadline())),
      ),
    describeComponent: (arn) => call('DescribeComponent', async () => componentStatus(await greengrass.send(new DescribeComponentCommand({ arn }), deadline()))),
    latestDeployment: (targetArn) =>
      call('ListDeployments', async () => {
        const out = await greengrass.send(new ListDeploymentsCommand({ targetArn, historyFilter: 'LATEST_ONLY', maxResults: 10 }), deadline());
        const found = (out.deployments ?? []).find((d) => d.targetArn === targetArn && d.isLatestForTarget !== false);
        return found?.deploymentId
          ? {
              deploymentId: found.deploymentId,
              targetArn,
              ...(found.deploymentName ? { deploymentName: found.deploymentName } : {}),
              ...(found.revisionId ? { revisionId: found.revisionId } : {}),
              ...(found.deploymentStatus ? { deploymentStatus: found.deploymentStatus } : {}),
            }
          : undefined;
      }),
    getDeployment: (deploymentId) =>
      call('GetDeployment', async () => {
        const out = await greengrass.send(new GetDeploymentCommand({ deploymentId }), deadline());
        const components = Object.fromEntries(
          Object.entries(out.components ?? {}).map(([name, c]) => [
            name,
            {
              componentVersion: c.componentVersion ?? '',
              ...(c.configurationUpdate ? { configurationUpdate: { ...(c.configurationUpdate.merge ? { merge: c.configurationUpdate.merge } : {}), ...(c.configurationUpdate.reset ? { reset: c.configurationUpdate.reset } : {}) } } : {}),
              ...(c.runWith ? { runWith: c.runWith as Record<string, unknown> } : {}),
            },
          ]),
        );
        return {
          deploymentId,
          targetArn: out.targetArn ?? '',
          components,
          ...(out.deploymentName ? { deploymentName: out.deploymentName } : {}),
          ...(out.revisionId ? { revisionId: out.revisionId } : {}),
          ...(out.deploymentStatus ? { deploymentStatus: out.deploymentStatus } : {}),
          ...(out.iotJobId ? { iotJobId: out.iotJobId } : {}),
          ...(out.deploymentPolicies ? { deploymentPolicies: out.deploymentPolicies as Record<string, unknown> } : {}),
          ...(out.iotJobConfiguration ? { iotJobConfiguration: out.iotJobConfiguration as Record<string, unknown> } : {}),
        };
      }),
    createDeployment: (deployment) =>
      call('CreateDeployment', async () => {
        const out = await greengrass.send(new CreateDeploymentCommand(deployment), deadline());
        return { deploymentId: out.deploymentId ?? '', ...(out.iotJobId ? { iotJobId: out.iotJobId } : {}) };
      }),
    listCoreDevices: (filter) =>
      call('ListCoreDevices', () =>
        paginate(async (nextToken) => {
          const out = await greengrass.send(new ListCoreDevicesCommand({ ...filter, maxResults: 100, nextToken }), deadline());
          return { items: (out.coreDevices ?? []).map(coreDevice), nextToken: out.nextToken };
        }),
      ),
    getCoreDevice: (thingName) =>
      callOrMissing('GetCoreDevice', async () => coreDevice(await greengrass.send(new GetCoreDeviceCommand({ coreDeviceThingName: thingName }), deadline()))),
    listEffectiveDeployments: (thingName) =>
      call('ListEffectiveDeployments', () =>
        paginate(async (nextToken) => {
          const out = await greengrass.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: thingName, maxResults: 100, nextToken }), deadline());
          return {
            items: (out.effectiveDeployments ?? []).map((d) => ({
              deploymentId: d.deploymentId ?? '',
              status: d.coreDeviceExecutionStatus ?? 'UNKNOWN',
              ...(d.deploymentName ? { deploymentName: d.deploymentName } : {}),
              ...(d.targetArn ? { targetArn: d.targetArn } : {}),
              ...(d.reason ? { reason: d.reason } : {}),
              ...(d.statusDetails?.errorTypes?.length ? { errorTypes: d.statusDetails.errorTypes } : {}),
              ...(d.modifiedTimestamp ? { modified: d.modifiedTimestamp } : {}),
            })),
            nextToken: out.nextToken,
          };
        }),
      ),
    listInstalledComponents: (thingName) =>
      call('ListInstalledComponents', () =>
        paginate(async (nextToken) => {
          const out = await greengrass.send(new ListInstalledComponentsCommand({ coreDeviceThingName: thingName, topologyFilter: 'ALL', maxResults: 100, nextToken }), deadline());
          return {
            items: (out.installedComponents ?? []).map((c) => ({
              componentName: c.componentName ?? '',
              componentVersion: c.componentVersion ?? '',
              lifecycleState: c.lifecycleState ?? 'UNKNOWN',
              ...(c.lifecycleStateDetails ? { lifecycleStateDetails: c.lifecycleStateDetails } : {}),
              ...(c.isRoot !== undefined ? { isRoot: c.isRoot } : {}),
              ...(c.lifecycleStatusCodes?.length ? { statusCodes: c.lifecycleStatusCodes } : {}),
            })),
            nextToken: out.nextToken,
          };
        }),
      ),
  };

  const store: ArtifactStore = {
    put: (bucket, key, file) =>
      call(`PutObject s3://${bucket}/${key}`, async () => {
        // A buffer, not a stream: the SDK can replay it when it retries.
        const body = await readFile(file);
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: 'application/zip' }), {
          abortSignal: AbortSignal.timeout(options.uploadDeadlineMs ?? 15 * 60_000),
        });
      }),
  };

  const lfv: LookoutVisionApi = {
    startModelPackagingJob: (r) =>
      call('StartModelPackagingJob', async () => {
        const out = await lookoutVision.send(
          new StartModelPackagingJobCommand({
            ProjectName: r.projectName,
            ModelVersion: r.modelVersion,
            ...(r.jobName ? { JobName: r.jobName } : {}),
            ...(r.description ? { Description: r.description } : {}),
            ClientToken: r.clientToken,
            Configuration: {
              Greengrass: {
                ComponentName: r.componentName,
                ...(r.componentVersion ? { ComponentVersion: r.componentVersion } : {}),
                ...(r.componentDescription ? { ComponentDescription: r.componentDescription } : {}),
                S3OutputLocation: { Bucket: r.bucket, ...(r.prefix ? { Prefix: r.prefix } : {}) },
                ...(r.targetDevice ? { TargetDevice: r.targetDevice } : {}),
                ...(r.targetPlatform
                  ? { TargetPlatform: { Os: r.targetPlatform.os, Arch: r.targetPlatform.arch, ...(r.targetPlatform.accelerator ? { Accelerator: r.targetPlatform.accelerator } : {}) } }
                  : {}),
                ...(r.compilerOptions ? { CompilerOptions: r.compilerOptions } : {}),
              },
            },
          }),
          deadline(),
        );
        return { jobName: out.JobName ?? r.jobName ?? '' };
      }),
    describeModelPackagingJob: (projectName, jobName) =>
      call('DescribeModelPackagingJob', async () => {
        const out = await lookoutVision.send(new DescribeModelPackagingJobCommand({ ProjectName: projectName, JobName: jobName }), deadline());
        const d = out.ModelPackagingDescription ?? {};
        const gg = d.ModelPackagingOutputDetails?.Greengrass;
        return {
          jobName: d.JobName ?? jobName,
          status: d.Status ?? 'UNKNOWN',
          ...(d.StatusMessage ? { statusMessage: d.StatusMessage } : {}),
          ...(gg?.ComponentName ? { componentName: gg.ComponentName } : {}),
          ...(gg?.ComponentVersion ? { componentVersion: gg.ComponentVersion } : {}),
          ...(gg?.ComponentVersionArn ? { componentVersionArn: gg.ComponentVersionArn } : {}),
        };
      }),
  };

  return { greengrass: gg, iot: createIotJobsApi(iot, deadline), s3: store, lookoutVision: lfv };
}
