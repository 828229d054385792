import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { AwsEndpoint, FAKE_CREDENTIALS, TEST_ACCOUNT, TEST_REGION } from '../peers/aws-endpoint.js';
import { type GdkCloud } from '../peers/gdk.js';
import { connectMqttIotCore, type DeploymentOutcome, type MqttIotCore, type Nucleus, startNucleus } from '../peers/greengrass-nucleus/index.js';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';

/**
 * One factory line's cloud and gateway, all real processes or protocol-level stand-ins: the AWS APIs the fleet
 * CLI calls (test/peers/aws-endpoint.ts, with S3 and the deployments' IoT jobs), "AWS IoT Core" (mosquitto,
 * reached by the nucleus's own MQTT connection), and one Greengrass core device (the nucleus emulator) in the
 * thing group GROUP. A deployment created through the API reaches the device the way an IoT job does: the
 * emulator runs it, and its outcome becomes the device's job execution status.
 */
export const GROUP = `arn:aws:iot:${TEST_REGION}:${TEST_ACCOUNT}:thinggroup/line-1`;
export const THING = 'line-1-core';
const root = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

export interface Message {
  topic: string;
  body: Record<string, unknown>;
}

export interface FleetWorld {
  readonly dir: string;
  readonly aws: AwsEndpoint;
  readonly broker: MosquittoPeer;
  readonly iotCore: MqttIotCore;
  readonly nucleus: Nucleus;
  /** Every message "IoT Core" received under `lookout/#`, in order. */
  readonly messages: Message[];
  /** Deployment id → its outcome on the device ('running' while the nucleus works on it). */
  readonly outcomes: Map<string, DeploymentOutcome | 'running'>;
  /** While true, the nucleus's IoT Core connection refuses publishes (an outage seen from the device). */
  offline: boolean;
  gdkCloud(): GdkCloud;
  /** `lookout-edge <args>` as a user runs it, against this world's AWS endpoint. */
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** A folder of the POSIX tools a stock core device has (links to this machine's), and no node. */
async function deviceToolsWithoutNode(dir: string): Promise<string> {
  const bin = join(dir, 'device-bin');
  await mkdir(bin, { recursive: true });
  await chmod(bin, 0o755);
  for (const tool of ['sh', 'uname', 'getconf', 'awk', 'sort', 'head', 'printf', 'chmod', 'mv', 'mkdir', 'cat', 'rm', 'sleep', 'ls', 'id']) {
    const found = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => join(d, tool)).find((p) => existsSync(p));
    if (found) await symlink(found, join(bin, tool));
  }
  return bin;
}

export async function startFleetWorld(options: { interpolateComponentConfiguration?: boolean; spoolerMaxBytes?: number } = {}): Promise<FleetWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'le-fleet-'));
  await chmod(dir, 0o755); // the component user walks through it
  const aws = new AwsEndpoint();
  await aws.start();
  aws.addCoreDevice({ thingName: THING, groupArns: [GROUP] });
  const broker = await startMosquitto();
  const iotCore = await connectMqttIotCore({ url: broker.url, clientId: `greengrass-${THING}` });
  const messages: Message[] = [];
  const watcher = await mqtt.connectAsync(broker.url, { clientId: 'iot-core-rule' });
  await watcher.subscribeAsync('lookout/#', { qos: 1 });
  watcher.on('message', (topic, payload) => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString()) as Record<string, unknown>;
    } catch {
      body = { raw: payload.toString('base64') };
    }
    messages.push({ topic, body });
  });

  const world = { offline: false } as { offline: boolean };
  const nucleus = await startNucleus({
    root: join(dir, 'greengrass', 'v2'),
    thingName: THING,
    region: TEST_REGION,
    nucleusConfiguration: {
      interpolateComponentConfiguration: options.interpolateComponentConfiguration ?? false,
      ...(options.spoolerMaxBytes ? { spoolerMaxBytes: options.spoolerMaxBytes } : {}),
    },
    cloud: {
      getRecipe: async (name, version) => {
        const found = [...aws.components.values()].find((c) => c.name === name && c.version === version);
        if (!found) throw new Error(`ResourceNotFoundException: component ${name}@${version}`);
        return stringify(found.recipe);
      },
      listComponentVersions: async (name) => [...aws.components.values()].filter((c) => c.name === name).map((c) => c.version),
      getArtifact: async (uri) => {
        const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
        const body = m ? aws.objects.get(`${m[1]}/${m[2]}`) : undefined;
        if (!body) throw new Error(`S3 GetObject ${uri}: NoSuchKey (or AccessDenied: the token exchange role needs s3:GetObject)`);
        return body;
      },
    },
    iotCore: {
      publish: async (topic, payload, opts) => {
        if (world.offline) throw new Error('IoT Core unreachable');
        await iotCore.publish(topic, payload, opts);
      },
      subscribe: (filter, onMessage) => iotCore.subscribe(filter, onMessage),
    },
    // A core device without Node.js: the service's PATH holds the shell tools the lifecycle scripts use, no node.
    env: { PATH: await deviceToolsWithoutNode(dir) },
  });

  // Deployments reach the device like IoT jobs: each new one is run by the nucleus, in order.
  const outcomes = new Map<string, DeploymentOutcome | 'running'>();
  let chain: Promise<unknown> = Promise.resolve();
  const poll = setInterval(() => {
    for (const deployment of aws.deployments.values()) {
      if (outcomes.has(deployment.deploymentId) || !aws.membersOf(deployment.targetArn).includes(THING)) continue;
      outcomes.set(deployment.deploymentId, 'running');
      const policies = deployment.deploymentPolicies as { failureHandlingPolicy?: 'ROLLBACK' | 'DO_NOTHING' } | undefined;
      chain = chain.then(async () => {
        const outcome = await nucleus
          .deploy({
            deploymentId: deployment.deploymentId,
            components: deployment.components as Parameters<Nucleus['deploy']>[0]['components'],
            ...(policies?.failureHandlingPolicy ? { failureHandlingPolicy: policies.failureHandlingPolicy } : {}),
          })
          .catch((err: unknown): DeploymentOutcome => ({ deploymentId: deployment.deploymentId, status: 'FAILED', rolledBack: false, reason: String(err) }));
        outcomes.set(deployment.deploymentId, outcome);
      });
    }
  }, 50);
  aws.deviceProgress = (deploymentId) => {
    const outcome = outcomes.get(deploymentId);
    if (outcome === undefined || outcome === 'running') return { status: 'IN_PROGRESS' };
    return outcome.status === 'SUCCEEDED' ? { status: 'SUCCEEDED' } : { status: 'FAILED', ...(outcome.reason ? { reason: outcome.reason } : {}) };
  };

  return Object.assign(world, {
    dir,
    aws,
    broker,
    iotCore,
    nucleus,
    messages,
    outcomes,
    gdkCloud: (): GdkCloud => ({
      account: TEST_ACCOUNT,
      putObject: async (bucket, key, body) => void aws.objects.set(`${bucket}/${key}`, body),
      createComponentVersion: async (recipe) => {
        const res = await fetch(`${aws.url}/greengrass/v2/createComponentVersion`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `AWS4-HMAC-SHA256 Credential=${FAKE_CREDENTIALS.accessKeyId}/20260101/${TEST_REGION}/greengrass/aws4_request` },
          body: JSON.stringify({ inlineRecipe: Buffer.from(recipe).toString('base64') }),
        });
        if (!res.ok) throw new Error(`CreateComponentVersion: ${res.status} ${await res.text()}`);
      },
    }),
    cli: async (...args: string[]) => {
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: 'true',
      };
      const full = [...args, '--endpoint-url', aws.url, '--region', TEST_REGION, '--poll-interval', '0.1', '--timeout', '240'];
      try {
        const { stdout, stderr } = await run(process.execPath, [join(root, 'bin', 'lookout-edge.js'), ...full], { cwd: root, env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    },
    stop: async () => {
      clearInterval(poll);
      await chain.catch(() => undefined);
      await nucleus.stop();
      await watcher.endAsync();
      await iotCore.close();
      await broker.stop();
      await aws.stop();
      await rm(dir, { recursive: true, force: true });
    },
  });
}
