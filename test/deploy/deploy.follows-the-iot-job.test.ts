import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsApis } from '../../deploy/api.js';
import { deployToTarget } from '../../deploy/deployment.js';
import type { AwsEndpoint } from '../peers/aws-endpoint.js';
import { collectProgress, GROUP, startAws, WAIT } from './helpers.js';

/**
 * `deploy deploy` waits on the deployment's IoT job over the things in the target now. The stand-in copies the
 * documented edge that made ListCoreDevices the wrong list: by group it lists only devices that already
 * deployed to the group, and keeps devices removed from it.
 */
let aws: AwsEndpoint;
let apis: AwsApis;
beforeEach(async () => ({ aws, apis } = await startAws()));
afterEach(async () => aws.stop());

const CHANGE = { targetArn: GROUP, components: { 'com.lookoutedge.Inspector': { version: '1.4.0' } } };
const THING = 'arn:aws:iot:eu-west-1:123456789012:thing/jetson-7';
const strip = (lines: string[], id: string) => lines.filter((l) => l.startsWith(`deployment ${id}:`)).map((l) => l.replace(/ \(\d+ s\)$/, '').slice(`deployment ${id}: `.length));

describe('deploy deploy follows the IoT job', () => {
  it('a first deployment to a group of 2 members that never deployed waits until both executions finish', async () => {
    aws.addCoreDevice({ thingName: 'gw-1', groupArns: [GROUP] });
    aws.addCoreDevice({ thingName: 'gw-2', groupArns: [GROUP] });
    aws.iot.pageSize = 1; // every listing takes two pages
    // Both wait in the job's queue first (rollout rate, device offline), then run.
    aws.deviceProgress = (_id, thing, call) => {
      const start = thing === 'gw-1' ? 2 : 5;
      return { status: call < start ? 'QUEUED' : call < start + 2 ? 'IN_PROGRESS' : 'SUCCEEDED' };
    };
    expect(await apis.greengrass.listCoreDevices({ thingGroupArn: GROUP })).toEqual([]);
    const { lines, progress } = collectProgress();

    const result = await deployToTarget(apis, CHANGE, WAIT, progress);

    expect(result.devices).toEqual([
      { thingName: 'gw-1', status: 'SUCCEEDED' },
      { thingName: 'gw-2', status: 'SUCCEEDED' },
    ]);
    const seen = strip(lines, result.deploymentId);
    expect(seen[0]).toBe('0/2 succeeded, 0 in progress, 2 queued, 0 failed');
    expect(seen.at(-1)).toBe('2/2 succeeded, 0 in progress, 0 queued, 0 failed');
    expect(seen).toContain('1/2 succeeded, 0 in progress, 1 queued, 0 failed');
    // Every page of both listings was read.
    expect(aws.calls('ListJobExecutionsForJob').some((r) => r.query.nextToken === '1')).toBe(true);
    expect(aws.calls('ListThingsInThingGroup').some((r) => r.query.nextToken === '1')).toBe(true);
    // Once they succeeded, Greengrass lists them for the group.
    expect((await apis.greengrass.listCoreDevices({ thingGroupArn: GROUP })).map((d) => d.thingName)).toEqual(['gw-1', 'gw-2']);
  });

  it('a device removed from the group does not hold up the wait', async () => {
    aws.seedDeployment(GROUP, { 'com.lookoutedge.Inspector': { componentVersion: '1.3.0' } });
    for (const thingName of ['gw-1', 'gw-2', 'gw-gone', 'gw-retired']) aws.addCoreDevice({ thingName, groupArns: [GROUP], deployedGroups: [GROUP] });
    // Removed before the deployment: ListCoreDevices by group keeps listing it.
    aws.removeFromGroup('gw-retired', GROUP);
    expect((await apis.greengrass.listCoreDevices({ thingGroupArn: GROUP })).map((d) => d.thingName)).toContain('gw-retired');
    // Removed while the deployment runs, its execution stuck IN_PROGRESS (the device went away).
    aws.deviceProgress = (_id, thing, call) => {
      if (thing === 'gw-gone') {
        aws.removeFromGroup('gw-gone', GROUP);
        return { status: 'IN_PROGRESS' };
      }
      return { status: call < 3 ? 'IN_PROGRESS' : 'SUCCEEDED' };
    };
    const { lines, progress } = collectProgress();
    const started = Date.now();

    const result = await deployToTarget(apis, CHANGE, { ...WAIT, timeoutMs: 5_000 }, progress);

    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result.devices.map((d) => `${d.thingName} ${d.status}`)).toEqual(['gw-1 SUCCEEDED', 'gw-2 SUCCEEDED']);
    expect(strip(lines, result.deploymentId).at(-1)).toBe('2/2 succeeded, 0 in progress, 0 queued, 0 failed, 1 no longer in the group (not waited for)');
  });

  it('a deployment to one thing follows that thing\'s execution, QUEUED while the device has not connected yet', async () => {
    aws.addCoreDevice({ thingName: 'jetson-7', registered: false });
    aws.deviceProgress = (_id, _thing, call) => {
      if (call === 3) aws.devices[0]!.registered = true;
      return { status: call < 3 ? 'QUEUED' : call < 4 ? 'IN_PROGRESS' : 'SUCCEEDED' };
    };
    const { lines, progress } = collectProgress();
    const result = await deployToTarget(apis, { ...CHANGE, targetArn: THING }, WAIT, progress);
    expect(result.devices).toEqual([{ thingName: 'jetson-7', status: 'SUCCEEDED' }]);
    expect(strip(lines, result.deploymentId)[0]).toBe('0/1 succeeded, 0 in progress, 1 queued, 0 failed');
    expect(aws.calls('ListThingsInThingGroup')).toHaveLength(0);
    expect(aws.calls('ListEffectiveDeployments')).toHaveLength(0);
  });

  it('a job canceled before a member ran it (a newer revision replaced the deployment) fails, saying so', async () => {
    aws.addCoreDevice({ thingName: 'gw-1', groupArns: [GROUP] });
    aws.addCoreDevice({ thingName: 'gw-2', groupArns: [GROUP] });
    aws.deviceProgress = (_id, thing, call) => {
      if (thing === 'gw-2' && call === 2) aws.seedDeployment(GROUP, { 'com.lookoutedge.Inspector': { componentVersion: '1.5.0' } }, 'someone-else');
      return { status: thing === 'gw-1' ? 'SUCCEEDED' : 'QUEUED' };
    };
    const err = await deployToTarget(apis, CHANGE, WAIT, () => undefined).catch((e: Error) => e);
    expect(err).toMatchObject({
      code: 'DEPLOYMENT_FAILED',
      message: expect.stringMatching(/failed on 1 of 2 devices: gw-2 NOT_RUN \(the deployment's IoT job [0-9a-f-]+ is CANCELED: a newer deployment revision replaced it before this device ran it\)$/),
    });
  });
});
