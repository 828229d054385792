import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsEndpoint, FAKE_CREDENTIALS } from '../peers/aws-endpoint.js';
import { fakeBuild, GROUP, root } from './helpers.js';

/** The `lookout-edge deploy …` commands as a user runs them, against the local AWS endpoint. */
const run = promisify(execFile);
let aws: AwsEndpoint;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'deploy', ...args], { cwd: root, env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const aws_ = () => ['--endpoint-url', aws.url, '--region', 'eu-west-1', '--poll-interval', '0.02', '--timeout', '20'];

beforeAll(async () => {
  aws = new AwsEndpoint();
  await aws.start();
});
afterAll(async () => aws.stop());

describe('lookout-edge deploy (CLI)', () => {
  it('publish: uploads and creates both built components, printing the result as JSON and progress on stderr', async () => {
    const { dir } = await fakeBuild('2.0.0');
    const { code, stdout, stderr } = await cli('publish', '--build-dir', dir, '--bucket', 'cli-bucket', ...aws_());
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout).published.map((p: { name: string; state: string }) => `${p.name} ${p.state}`)).toEqual([
      'com.lookoutedge.Inspector DEPLOYABLE',
      'com.lookoutedge.ModelServer DEPLOYABLE',
    ]);
    expect(stderr).toMatch(/^\d\d:\d\d:\d\d com\.lookoutedge\.Inspector 2\.0\.0: uploading /m);
    expect([...aws.objects.keys()].sort()).toEqual([
      'cli-bucket/com.lookoutedge.Inspector/2.0.0/lookout-edge-linux-x64.zip',
      'cli-bucket/com.lookoutedge.ModelServer/2.0.0/lookout-edge-linux-x64.zip',
    ]);
  });

  it('deploy: flags become the components, merge, rollout and abort configuration of CreateDeployment', async () => {
    aws.seedDeployment(GROUP, { 'com.lookoutedge.ModelServer': { componentVersion: '1.0.0' }, 'com.example.Other': { componentVersion: '3.0.0' } });
    const { code, stdout, stderr } = await cli(
      'deploy',
      '--target-arn', GROUP,
      '--component', 'com.lookoutedge.Inspector=2.0.0',
      '--merge', 'com.lookoutedge.Inspector={"status":{"port":9000}}',
      '--merge', 'com.lookoutedge.Inspector={"decide":{"failSafe":"hold"}}',
      '--reset', 'com.lookoutedge.Inspector=/cameras',
      '--remove', 'com.example.Other',
      '--max-per-minute', '7',
      '--exponential', '2,1.5,3',
      '--abort-failure-percent', '20',
      '--abort-min-devices', '5',
      '--no-wait',
      ...aws_(),
    );
    expect(code, stderr).toBe(0);
    const body = aws.calls('CreateDeployment').at(-1)!.json!;
    expect(JSON.parse(stdout)).toMatchObject({ targetArn: GROUP, components: { 'com.lookoutedge.Inspector': '2.0.0', 'com.lookoutedge.ModelServer': '1.0.0' } });
    expect(body.components).toEqual({
      'com.lookoutedge.ModelServer': { componentVersion: '1.0.0' },
      'com.lookoutedge.Inspector': { componentVersion: '2.0.0', configurationUpdate: { merge: '{"status":{"port":9000},"decide":{"failSafe":"hold"}}', reset: ['/cameras'] } },
    });
    expect(body.iotJobConfiguration).toMatchObject({
      jobExecutionsRolloutConfig: { maximumPerMinute: 7, exponentialRate: { baseRatePerMinute: 2, incrementFactor: 1.5, rateIncreaseCriteria: { numberOfSucceededThings: 3 } } },
      abortConfig: { criteriaList: [{ failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 20, minNumberOfExecutedThings: 5 }, expect.anything()] },
    });
    expect(body.deploymentPolicies).toMatchObject({ failureHandlingPolicy: 'ROLLBACK' });
  });

  it('status --thing-group-arn: the group\'s current members through the IoT API, as JSON', async () => {
    const group = 'arn:aws:iot:eu-west-1:123456789012:thinggroup/cli-line';
    const deployment = aws.seedDeployment(group, { 'com.lookoutedge.Inspector': { componentVersion: '1.4.0' } });
    aws.addCoreDevice({ thingName: 'cli-gw-1', groupArns: [group] });
    aws.addCoreDevice({ thingName: 'cli-gw-2', groupArns: [group], registered: false });
    aws.deviceProgress = () => ({ status: 'QUEUED' });
    const { code, stdout, stderr } = await cli('status', '--thing-group-arn', group, '--json', ...aws_());
    expect(code, stderr).toBe(0);
    const devices = JSON.parse(stdout).devices as { thingName: string; status: string; groupDeployment: { deploymentId: string; status: string } }[];
    expect(devices.map((d) => [d.thingName, d.status, d.groupDeployment])).toEqual([
      ['cli-gw-1', 'HEALTHY', { deploymentId: deployment.deploymentId, status: 'QUEUED' }],
      ['cli-gw-2', 'NOT_REGISTERED', { deploymentId: deployment.deploymentId, status: 'QUEUED' }],
    ]);
    expect(aws.calls('ListThingsInThingGroup').at(-1)?.signingService).toBe('iot');
  });

  it('usage errors exit 64; AWS failures exit 1 with a one-line reason', async () => {
    const missing = await cli('deploy', '--component', 'x=1.0.0');
    expect(missing.code).toBe(64);
    expect(missing.stderr).toMatch(/required option '--target-arn <arn>' not specified/);

    const badMerge = await cli('deploy', '--target-arn', GROUP, '--merge', 'com.lookoutedge.Inspector={oops', '--no-wait', ...aws_());
    expect(badMerge.code).toBe(64);
    expect(badMerge.stderr).toMatch(/--merge com\.lookoutedge\.Inspector: the configuration merge is not JSON/);

    // Models are found through the model registry on the device, not a guessed nucleus path: the flag is gone.
    const oldFlag = await cli('rollout-model', '--target-arn', GROUP, '--model-dir', '.', '--model-component', 'm', '--model-version', '1.0.0', '--bucket', 'b', '--greengrass-root', '/greengrass/v2');
    expect(oldFlag.code).toBe(64);
    expect(oldFlag.stderr).toMatch(/unknown option '--greengrass-root'/);

    aws.failNext('ListCoreDevices', { status: 403, name: 'AccessDeniedException', message: 'not authorized to perform greengrass:ListCoreDevices' });
    const denied = await cli('status', ...aws_());
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe('lookout-edge: ListCoreDevices failed: AccessDeniedException (HTTP 403): not authorized to perform greengrass:ListCoreDevices\n');
  });
});
