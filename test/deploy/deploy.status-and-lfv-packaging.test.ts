import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsApis } from '../../deploy/adapters/aws-clients.js';
import type { AwsApis, ModelPackagingRequest } from '../../deploy/api.js';
import { packageLfvModel } from '../../deploy/package-lfv-model.js';
import { fleetStatus, formatStatus } from '../../deploy/status.js';
import { type AwsEndpoint, FAKE_CREDENTIALS } from '../peers/aws-endpoint.js';
import { collectProgress, GROUP, startAws } from './helpers.js';

let aws: AwsEndpoint;
let apis: AwsApis;
beforeEach(async () => ({ aws, apis } = await startAws()));
afterEach(async () => aws.stop());

const REQUEST: Omit<ModelPackagingRequest, 'clientToken'> = {
  projectName: 'cookies',
  modelVersion: '4',
  componentName: 'cookies-model',
  componentVersion: '4.0.0',
  bucket: 'lfv-out',
  prefix: 'packaged/',
  targetPlatform: { os: 'LINUX', arch: 'ARM64', accelerator: 'NVIDIA' },
  compilerOptions: '{"gpu-code":"sm_72","trt-ver":"8.2.1","cuda-ver":"10.2"}',
};
const FAST = { timeoutMs: 5_000, pollIntervalMs: 20 };

describe('deploy status', () => {
  it('--thing-group-arn lists the things in the group now, with their effective deployments, installed component states and execution of the group deployment', async () => {
    const deployment = aws.seedDeployment(GROUP, { 'com.lookoutedge.Inspector': { componentVersion: '1.4.0' } });
    const child = 'arn:aws:iot:eu-west-1:123456789012:thinggroup/line-1-cell-b';
    aws.addThingGroup(child, GROUP);
    aws.addCoreDevice({
      thingName: 'gw-1',
      groupArns: [GROUP],
      deployedGroups: [GROUP],
      installed: [
        { componentName: 'com.lookoutedge.Inspector', componentVersion: '1.4.0', lifecycleState: 'RUNNING', isRoot: true },
        { componentName: 'com.lookoutedge.ModelServer', componentVersion: '1.4.0', lifecycleState: 'BROKEN', lifecycleStateDetails: 'exit code 1' },
      ],
    });
    // Joined the group (a child group) but has not deployed to it yet: ListCoreDevices by group would not list it.
    aws.addCoreDevice({ thingName: 'gw-new', groupArns: [child] });
    // In the group, never connected as a core device.
    aws.addCoreDevice({ thingName: 'gw-unboxed', groupArns: [GROUP], registered: false });
    // Deployed to the group, then removed from it: ListCoreDevices by group would still list it.
    aws.addCoreDevice({ thingName: 'gw-left', groupArns: [], deployedGroups: [GROUP] });
    aws.addCoreDevice({ thingName: 'elsewhere', groupArns: [] });
    aws.deviceProgress = (_id, thing) => ({ status: thing === 'gw-1' ? 'SUCCEEDED' : 'QUEUED' });
    expect((await apis.greengrass.listCoreDevices({ thingGroupArn: GROUP })).map((d) => d.thingName)).toEqual(['gw-1', 'gw-left']);
    aws.requests.length = 0;

    const devices = await fleetStatus(apis, { thingGroupArn: GROUP });
    expect(devices.map((d) => `${d.thingName} ${d.status} ${d.groupDeployment?.status}`)).toEqual(['gw-1 HEALTHY SUCCEEDED', 'gw-new HEALTHY QUEUED', 'gw-unboxed NOT_REGISTERED QUEUED']);
    expect(aws.calls('ListCoreDevices')).toHaveLength(0);
    expect(aws.calls('ListThingsInThingGroup')[0]).toMatchObject({ path: '/thing-groups/line-1/things', query: { recursive: 'true' }, signingService: 'iot' });
    expect(aws.calls('GetCoreDevice').map((r) => r.path).sort()).toEqual(['gw-1', 'gw-new', 'gw-unboxed'].map((t) => `/greengrass/v2/coreDevices/${t}`));
    // A thing that is not a core device has no Greengrass state to ask for.
    expect(aws.calls('ListEffectiveDeployments').map((r) => r.path).sort()).toEqual(['gw-1', 'gw-new'].map((t) => `/greengrass/v2/coreDevices/${t}/effectiveDeployments`));
    expect(aws.calls('ListInstalledComponents')[0]?.query).toMatchObject({ topologyFilter: 'ALL' });

    const text = formatStatus(devices);
    expect(text).toMatch(/^gw-1 {2}HEALTHY {2}linux\/aarch64/);
    expect(text).toContain(`deployment ${deployment.deploymentId} (line-1): SUCCEEDED`);
    expect(text).toMatch(/com\.lookoutedge\.ModelServer\s+1\.4\.0\s+BROKEN - exit code 1/);
    expect(text).toContain(`gw-new  HEALTHY  linux/aarch64`);
    expect(text).toContain(`  group deployment ${deployment.deploymentId}: QUEUED`);
    expect(text).toContain('gw-unboxed  NOT_REGISTERED  (not a Greengrass core device yet: it has never connected)');
    expect(text).not.toContain('gw-left');
  });

  it('without a filter lists every core device (ListCoreDevices)', async () => {
    aws.addCoreDevice({ thingName: 'gw-1', groupArns: [GROUP] });
    aws.addCoreDevice({ thingName: 'elsewhere', groupArns: [] });
    const devices = await fleetStatus(apis, {});
    expect(devices.map((d) => d.thingName)).toEqual(['gw-1', 'elsewhere']);
    expect(aws.calls('ListCoreDevices')[0]?.query.thingGroupArn).toBeUndefined();
  });
});

describe('deploy package-lfv-model', () => {
  it('starts the packaging job with the Greengrass configuration and polls it to SUCCEEDED', async () => {
    aws.packagingStates = [{ Status: 'CREATED' }, { Status: 'RUNNING' }, { Status: 'RUNNING' }, { Status: 'SUCCEEDED', StatusMessage: 'done' }];
    const { lines, progress } = collectProgress();
    const job = await packageLfvModel(apis, { ...REQUEST, jobName: 'pkg-1' }, FAST, progress);
    const start = aws.calls('StartModelPackagingJob')[0]!;
    expect(start).toMatchObject({ method: 'POST', path: '/2020-11-20/projects/cookies/modelpackagingjobs', signingService: 'lookoutvision' });
    expect(start.headers['x-amzn-client-token']).toMatch(/^[0-9a-f-]{36}$/);
    expect(start.json).toEqual({
      ModelVersion: '4',
      JobName: 'pkg-1',
      Configuration: {
        Greengrass: {
          ComponentName: 'cookies-model',
          ComponentVersion: '4.0.0',
          S3OutputLocation: { Bucket: 'lfv-out', Prefix: 'packaged/' },
          TargetPlatform: { Os: 'LINUX', Arch: 'ARM64', Accelerator: 'NVIDIA' },
          CompilerOptions: '{"gpu-code":"sm_72","trt-ver":"8.2.1","cuda-ver":"10.2"}',
        },
      },
    });
    expect(aws.calls('DescribeModelPackagingJob')[0]?.path).toBe('/2020-11-20/projects/cookies/modelpackagingjobs/pkg-1');
    expect(job).toMatchObject({ status: 'SUCCEEDED', componentName: 'lfv-model', componentVersion: '1.0.0' });
    expect(lines.filter((l) => l.includes(': RUNNING'))).toHaveLength(1);
  });

  it.each([
    ['AccessDeniedException', 403, 'Amazon Lookout for Vision has reached end of support and no longer accepts requests'],
    ['ValidationException', 400, 'The service is no longer available to new or existing customers'],
    ['ResourceNotFoundException', 404, 'This service has ended'],
  ])('a refusal (%s) that says the service ended is SERVICE_ENDED', async (name, status, message) => {
    aws.failNext('StartModelPackagingJob', { status, name, message });
    await expect(packageLfvModel(apis, REQUEST, FAST, () => undefined)).rejects.toMatchObject({
      code: 'SERVICE_ENDED',
      message: expect.stringMatching(/^Amazon Lookout for Vision no longer packages models \(the service ended on 2025-10-31\)[\s\S]*lookout-edge train/),
    });
    expect(aws.calls('StartModelPackagingJob')).toHaveLength(1);
  });

  it('a job that FAILED because the service ended is SERVICE_ENDED; another failure is DEPLOYMENT_FAILED', async () => {
    aws.packagingStates = [{ Status: 'RUNNING' }, { Status: 'FAILED', StatusMessage: 'Model packaging is no longer supported: end of support' }];
    await expect(packageLfvModel(apis, REQUEST, FAST, () => undefined)).rejects.toMatchObject({ code: 'SERVICE_ENDED' });
    aws.packagingStates = [{ Status: 'FAILED', StatusMessage: 'Compilation failed for target' }];
    await expect(packageLfvModel(apis, REQUEST, FAST, () => undefined)).rejects.toMatchObject({ code: 'DEPLOYMENT_FAILED', message: expect.stringMatching(/FAILED: Compilation failed for target$/) });
  });

  it('an ordinary permission problem stays AWS_REQUEST_FAILED with the service message', async () => {
    aws.failNext('StartModelPackagingJob', { status: 403, name: 'AccessDeniedException', message: 'User is not authorized to perform lookoutvision:StartModelPackagingJob' });
    await expect(packageLfvModel(apis, REQUEST, FAST, () => undefined)).rejects.toMatchObject({
      code: 'AWS_REQUEST_FAILED',
      retryable: false,
      message: expect.stringMatching(/AccessDeniedException \(HTTP 403\): User is not authorized/),
    });
  });

  it('an unreachable endpoint ends at once as SERVICE_ENDED, never hanging', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const unreachable = createAwsApis({ endpointUrl: `http://127.0.0.1:${port}`, region: 'eu-west-1', credentials: FAKE_CREDENTIALS, maxAttempts: 2 });
    const started = Date.now();
    await expect(packageLfvModel(unreachable, REQUEST, FAST, () => undefined)).rejects.toMatchObject({ code: 'SERVICE_ENDED', message: expect.stringMatching(/endpoint cannot be reached/) });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('an endpoint that never answers is cut by the call deadline', async () => {
    aws.hanging.add('StartModelPackagingJob');
    const slow = createAwsApis({ endpointUrl: aws.url, region: 'eu-west-1', credentials: FAKE_CREDENTIALS, maxAttempts: 1, callDeadlineMs: 400 });
    const started = Date.now();
    await expect(packageLfvModel(slow, REQUEST, FAST, () => undefined)).rejects.toMatchObject({ code: 'SERVICE_ENDED' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
