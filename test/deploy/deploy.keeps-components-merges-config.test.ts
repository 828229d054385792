import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inspectorAccessControl } from '../../component/access-control.js';
import type { AwsApis } from '../../deploy/api.js';
import { deployToTarget } from '../../deploy/deployment.js';
import type { AwsEndpoint } from '../peers/aws-endpoint.js';
import { collectProgress, GROUP, startAws, WAIT } from './helpers.js';

let aws: AwsEndpoint;
let apis: AwsApis;
beforeEach(async () => ({ aws, apis } = await startAws()));
afterEach(async () => aws.stop());

/** What an earlier deployment left on the group: our two components, a model, and someone else's component. */
function seed() {
  return aws.seedDeployment(GROUP, {
    'com.lookoutedge.Inspector': {
      componentVersion: '1.3.0',
      configurationUpdate: { merge: JSON.stringify({ cameras: [{ id: 'cam1', source: { type: 'rtsp', url: 'rtsp://10.0.0.5/s' } }], status: { port: 8080 } }) },
    },
    'com.lookoutedge.ModelServer': { componentVersion: '1.3.0' },
    'aws.greengrass.Cli': { componentVersion: '2.12.0' },
    'com.example.PlcBridge': { componentVersion: '0.9.1', runWith: { posixUser: 'plc:plc' } },
  });
}

describe('deploy deploy', () => {
  it('keeps the components of the current deployment, merges configuration on top of its merge, and sets rollout, abort and rollback', async () => {
    const current = seed();
    aws.addCoreDevice({ thingName: 'gw-1', groupArns: [GROUP] });
    aws.addCoreDevice({ thingName: 'gw-2', groupArns: [GROUP] });
    aws.deviceProgress = (_id, thing, call) => ({ status: call < (thing === 'gw-1' ? 2 : 4) ? 'IN_PROGRESS' : 'SUCCEEDED' });
    const { lines, progress } = collectProgress();

    const result = await deployToTarget(
      apis,
      {
        targetArn: GROUP,
        components: {
          'com.lookoutedge.Inspector': { version: '1.4.0', merge: { status: { port: 9090 }, decide: { failSafe: 'hold' } } },
          'com.lookoutedge.ModelServer': { version: '1.4.0' },
        },
        remove: ['aws.greengrass.Cli'],
        rollout: { maximumPerMinute: 20, exponentialRate: { baseRatePerMinute: 2, incrementFactor: 2, rateIncreaseCriteria: { numberOfSucceededThings: 5 } } },
        abort: { failureThresholdPercentage: 25, minExecutedThings: 4 },
        inProgressTimeoutMinutes: 30,
      },
      WAIT,
      progress,
    );

    // Read first: ListDeployments for the target (latest only), then GetDeployment.
    const [list, get] = aws.requests;
    expect(list).toMatchObject({ operation: 'ListDeployments', query: { targetArn: GROUP, historyFilter: 'LATEST_ONLY' } });
    expect(get).toMatchObject({ operation: 'GetDeployment', path: `/greengrass/v2/deployments/${current.deploymentId}` });

    const [create] = aws.calls('CreateDeployment');
    const body = create!.json!;
    expect(body.targetArn).toBe(GROUP);
    expect(body.deploymentName).toBe('line-1');
    expect(body.clientToken).toMatch(/^[0-9a-f-]{36}$/);
    const components = body.components as Record<string, { componentVersion: string; configurationUpdate?: { merge?: string }; runWith?: unknown }>;
    expect(Object.keys(components).sort()).toEqual(['com.example.PlcBridge', 'com.lookoutedge.Inspector', 'com.lookoutedge.ModelServer']);
    expect(components['com.example.PlcBridge']).toEqual({ componentVersion: '0.9.1', runWith: { posixUser: 'plc:plc' } });
    expect(components['com.lookoutedge.ModelServer']).toEqual({ componentVersion: '1.4.0' });
    expect(components['com.lookoutedge.Inspector']?.componentVersion).toBe('1.4.0');
    // The earlier merge is carried forward (devices joining later get only this deployment), the change on top.
    expect(JSON.parse(components['com.lookoutedge.Inspector']!.configurationUpdate!.merge!)).toEqual({
      cameras: [{ id: 'cam1', source: { type: 'rtsp', url: 'rtsp://10.0.0.5/s' } }],
      status: { port: 9090 },
      decide: { failSafe: 'hold' },
    });
    expect(body.iotJobConfiguration).toEqual({
      jobExecutionsRolloutConfig: { maximumPerMinute: 20, exponentialRate: { baseRatePerMinute: 2, incrementFactor: 2, rateIncreaseCriteria: { numberOfSucceededThings: 5 } } },
      abortConfig: {
        criteriaList: [
          { failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 25, minNumberOfExecutedThings: 4 },
          { failureType: 'TIMED_OUT', action: 'CANCEL', thresholdPercentage: 25, minNumberOfExecutedThings: 4 },
        ],
      },
      timeoutConfig: { inProgressTimeoutInMinutes: 30 },
    });
    expect(body.deploymentPolicies).toEqual({
      failureHandlingPolicy: 'ROLLBACK',
      componentUpdatePolicy: { action: 'NOTIFY_COMPONENTS', timeoutInSeconds: 60 },
      configurationValidationPolicy: { timeoutInSeconds: 60 },
    });

    // Followed through the deployment's IoT job until every device of the group finished, with progress on each change.
    expect(result.devices).toEqual([
      { thingName: 'gw-1', status: 'SUCCEEDED' },
      { thingName: 'gw-2', status: 'SUCCEEDED' },
    ]);
    expect(result.iotJobId).toBe(aws.latestFor(GROUP)!.iotJobId);
    expect(aws.calls('DescribeJob')[0]).toMatchObject({ path: `/jobs/${result.iotJobId}`, signingService: 'iot' });
    expect(aws.calls('ListJobExecutionsForJob')[0]).toMatchObject({ path: `/jobs/${result.iotJobId}/things`, query: { maxResults: '250' } });
    expect(aws.calls('ListThingsInThingGroup')[0]).toMatchObject({ path: '/thing-groups/line-1/things', query: { recursive: 'true' } });
    expect(aws.calls('ListCoreDevices')).toHaveLength(0);
    const progressLines = lines.filter((l) => l.startsWith(`deployment ${result.deploymentId}:`)).map((l) => l.replace(/ \(\d+ s\)$/, ''));
    expect(progressLines).toEqual([
      `deployment ${result.deploymentId}: 0/2 succeeded, 2 in progress, 0 queued, 0 failed`,
      `deployment ${result.deploymentId}: 1/2 succeeded, 1 in progress, 0 queued, 0 failed`,
      `deployment ${result.deploymentId}: 2/2 succeeded, 0 in progress, 0 queued, 0 failed`,
    ]);
  });

  it('a device that fails (and rolls back) makes the deployment fail, naming the device and the reason its job execution reports', async () => {
    seed();
    aws.addCoreDevice({ thingName: 'gw-1', groupArns: [GROUP] });
    aws.addCoreDevice({ thingName: 'gw-2', groupArns: [GROUP] });
    aws.deviceProgress = (_id, thing, call) =>
      thing === 'gw-2' && call >= 2 ? { status: 'FAILED', reason: 'com.lookoutedge.Inspector: broken after update' } : { status: call >= 2 ? 'SUCCEEDED' : 'IN_PROGRESS' };
    const failed = deployToTarget(apis, { targetArn: GROUP, components: { 'com.lookoutedge.Inspector': { version: '1.4.0' } } }, WAIT, () => undefined);
    await expect(failed).rejects.toMatchObject({
      code: 'DEPLOYMENT_FAILED',
      message: expect.stringMatching(/failed on 1 of 2 devices: gw-2 FAILED \(com\.lookoutedge\.Inspector: broken after update \(FAILED_ROLLBACK_COMPLETE\)\)$/),
    });
    // The reason is the execution's status details (DescribeJobExecution), asked once for the failed device.
    const [seeded, failedDeployment, restored] = [...aws.deployments.values()];
    expect(aws.calls('DescribeJobExecution').map((r) => r.path)).toEqual([`/things/gw-2/jobs/${failedDeployment!.iotJobId}`]);
    // The devices rolled back; the cloud's latest deployment is the previous one again, not the failed one.
    expect(restored?.components).toEqual(seeded?.components);
    expect(aws.latestFor(GROUP)?.deploymentId).toBe(restored?.deploymentId);
  });

  it('changing the topic prefix also merges the authorization policies for the new prefix', async () => {
    seed();
    await deployToTarget(
      apis,
      { targetArn: GROUP, components: { 'com.lookoutedge.Inspector': { merge: { publish: { topicPrefix: 'plant-7' } } } } },
      { ...WAIT, wait: false },
      () => undefined,
    );
    const components = aws.calls('CreateDeployment')[0]!.json!.components as Record<string, { componentVersion: string; configurationUpdate: { merge: string } }>;
    const merge = JSON.parse(components['com.lookoutedge.Inspector']!.configurationUpdate.merge) as Record<string, unknown>;
    expect(components['com.lookoutedge.Inspector']!.componentVersion).toBe('1.3.0');
    expect(merge.publish).toEqual({ topicPrefix: 'plant-7' });
    expect(merge.accessControl).toEqual(inspectorAccessControl('plant-7'));
    // --no-wait: nothing polled.
    expect(aws.calls('DescribeJob')).toHaveLength(0);
    expect(aws.calls('ListJobExecutionsForJob')).toHaveLength(0);
  });

  it('a first deployment needs versions; a group without devices yet ends at once', async () => {
    await expect(deployToTarget(apis, { targetArn: GROUP, components: { 'com.lookoutedge.Inspector': {} } }, WAIT, () => undefined)).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/not in the target's current deployment: give its version/),
    });
    expect(aws.calls('CreateDeployment')).toHaveLength(0);
    aws.addThingGroup(GROUP);
    const { lines, progress } = collectProgress();
    const result = await deployToTarget(apis, { targetArn: GROUP, components: { 'com.lookoutedge.Inspector': { version: '1.4.0' } } }, WAIT, progress);
    expect(result.devices).toEqual([]);
    expect(lines.join('\n')).toMatch(/has no deployment yet[\s\S]*no thing in the group yet; devices receive it when they join/);
    expect(aws.calls('CreateDeployment')[0]!.json!.deploymentName).toBe('lookout-edge');
  });

  it('retries a throttled CreateDeployment with the same client token (no second revision)', async () => {
    seed();
    aws.failNext('CreateDeployment', { status: 429, name: 'ThrottlingException', message: 'Rate exceeded' });
    await deployToTarget(apis, { targetArn: GROUP, components: { 'com.lookoutedge.ModelServer': { version: '1.4.0' } } }, { ...WAIT, wait: false }, () => undefined);
    const creates = aws.calls('CreateDeployment');
    expect(creates).toHaveLength(2);
    expect(creates[0]!.json!.clientToken).toBe(creates[1]!.json!.clientToken);
  });

  it('stops waiting at its deadline with a retryable error, the deployment still going on', async () => {
    seed();
    aws.addCoreDevice({ thingName: 'gw-1', groupArns: [GROUP] });
    aws.deviceProgress = () => ({ status: 'IN_PROGRESS' });
    await expect(
      deployToTarget(apis, { targetArn: GROUP, components: { 'com.lookoutedge.ModelServer': { version: '1.4.0' } } }, { wait: true, timeoutMs: 300, pollIntervalMs: 20 }, () => undefined),
    ).rejects.toMatchObject({ code: 'DEPLOYMENT_FAILED', retryable: true, message: expect.stringMatching(/still not done after 0 s \(it may go on in the cloud\)/) });
  });
});
