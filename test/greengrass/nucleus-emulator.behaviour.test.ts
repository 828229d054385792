import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { ZipFile } from 'yazl';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MqttIotCore, type Nucleus, connectMqttIotCore, startNucleus } from '../peers/greengrass-nucleus/index.js';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';

const SDK = resolve('node_modules/aws-iot-device-sdk-v2');

function zip(files: Record<string, string>): Promise<Buffer> {
  const z = new ZipFile();
  for (const [path, text] of Object.entries(files)) z.addBuffer(Buffer.from(text), path);
  z.end();
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => ok(Buffer.concat(chunks)));
    z.outputStream.on('error', fail);
  });
}

/** A component script talking to the nucleus with the real SDK; prints one JSON line per operation. */
const IPC_CLIENT = `
const { greengrasscoreipc } = require(process.env.SDK_PATH);
(async () => {
  const client = greengrasscoreipc.createClient();
  await client.connect();
  for (const [i, op] of JSON.parse(process.env.OPS).entries()) {
    try {
      if (op.kind === 'pubIot') await client.publishToIoTCore({ topicName: op.topic, qos: '1', payload: Buffer.from(op.topic), retain: !!op.retain });
      if (op.kind === 'subIot') await client.subscribeToIoTCore({ topicName: op.topic, qos: '1' }).activate();
      if (op.kind === 'subLocal') await client.subscribeToTopic({ topic: op.topic }).activate();
      if (op.kind === 'pubLocal') await client.publishToTopic({ topic: op.topic, publishMessage: { jsonMessage: { message: { i } } } });
      if (op.kind === 'watchConfig') {
        const s = client.subscribeToConfigurationUpdate({ keyPath: [] });
        s.on('message', (m) => console.log('config-event ' + JSON.stringify(m.configurationUpdateEvent.keyPath)));
        await s.activate();
      }
      console.log('result ' + JSON.stringify({ i, ok: true }));
    } catch (e) {
      console.log('result ' + JSON.stringify({ i, ok: false, error: String(e && (e.description || e.message)) + ' ' + JSON.stringify(e && e.serviceError) }));
    }
  }
  console.log('ipc-done');
  if (!process.env.STAY) { await client.close(); process.exit(0); }
  setInterval(() => undefined, 1000);
})().catch((e) => { console.log('ipc-failed ' + e); process.exit(3); });
`;

class Cloud {
  recipes = new Map<string, string>();
  artifacts = new Map<string, Buffer>();
  add(name: string, version: string, yaml: string): void {
    this.recipes.set(`${name}@${version}`, yaml);
  }
  getRecipe = async (name: string, version: string): Promise<string> => {
    const r = this.recipes.get(`${name}@${version}`);
    if (!r) throw new Error(`ResourceNotFound: ${name}@${version}`);
    return r;
  };
  listComponentVersions = async (name: string): Promise<string[]> =>
    [...this.recipes.keys()].filter((k) => k.startsWith(`${name}@`)).map((k) => k.slice(name.length + 1));
  getArtifact = async (uri: string): Promise<Buffer> => {
    const a = this.artifacts.get(uri);
    if (!a) throw new Error(`NoSuchKey ${uri}`);
    return a;
  };
}

function recipe(name: string, version: string, body: string): string {
  return `RecipeFormatVersion: "2020-01-25"\nComponentName: ${name}\nComponentVersion: "${version}"\n${body}`;
}

let broker: MosquittoPeer;
let iot: MqttIotCore;
let dir: string;
let nucleus: Nucleus | undefined;
const cloud = new Cloud();

beforeAll(async () => {
  broker = await startMosquitto();
  iot = await connectMqttIotCore({ url: broker.url });
  cloud.artifacts.set('s3://bucket/ipc-client.js', Buffer.from(IPC_CLIENT));
});
afterAll(async () => {
  await iot?.close();
  await broker?.close();
});
afterEach(async () => {
  await nucleus?.stop();
  nucleus = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function boot(interpolateComponentConfiguration = false): Promise<Nucleus> {
  dir = await mkdtemp(join(tmpdir(), 'le-gg-nucleus-'));
  await chmod(dir, 0o755); // like /greengrass: the component user must traverse to v2/
  nucleus = await startNucleus({ root: join(dir, 'v2'), thingName: 'thing-1', cloud, iotCore: iot, nucleusConfiguration: { interpolateComponentConfiguration } });
  return nucleus;
}

describe('nucleus emulator: artifacts, users and environment', () => {
  it('unarchives below <decompressedPath>/<zip name>/, applies Permission, runs as a non-root user with the nucleus environment', async () => {
    cloud.artifacts.set('s3://bucket/bundle.zip', await zip({ 'app/run.sh': 'echo "user=$(id -un) cwd=$(pwd) thing=$AWS_IOT_THING_NAME region=$AWS_REGION svcuid=${#SVCUID} sock=$AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT ca=$GG_ROOT_CA_PATH a=$LIFE b=$STEP"\n' }));
    cloud.artifacts.set('s3://bucket/secret.txt', Buffer.from('s'));
    cloud.add('com.ex.Unzip', '1.0.0', recipe('com.ex.Unzip', '1.0.0', `Manifests:
  - Platform: { os: linux, architecture: "/amd64|aarch64/" }
    Artifacts:
      - { URI: s3://bucket/bundle.zip, Unarchive: ZIP, Permission: { Read: ALL } }
      - { URI: s3://bucket/secret.txt }
    Lifecycle:
      Setenv: { LIFE: from-lifecycle }
      Run: { Script: "sh {artifacts:decompressedPath}/bundle/app/run.sh", Setenv: { STEP: "{iot:thingName}-step" } }
`));
    const n = await boot();
    const outcome = await n.deploy({ deploymentId: 'd1', components: { 'com.ex.Unzip': { componentVersion: '1.0.0' } } });
    expect(outcome.reason).toBeUndefined();
    await n.waitForState('com.ex.Unzip', 'FINISHED');
    const root = join(dir, 'v2');
    const log = n.logs('com.ex.Unzip');
    expect(log).toContain(`user=${n.runAs.user} cwd=${join(root, 'work', 'com.ex.Unzip')} thing=thing-1 region=us-east-1 svcuid=32`);
    expect(log).toContain(`sock=${join(root, 'ipc.socket')} ca=${join(root, 'rootCA.pem')} a=from-lifecycle b=thing-1-step`);
    if (process.getuid?.() === 0) expect(n.runAs.uid).not.toBe(0);
    const unzipped = await stat(join(root, 'packages/artifacts-unarchived/com.ex.Unzip/1.0.0/bundle/app/run.sh'));
    expect(unzipped.mode & 0o777).toBe(0o444);
    const secret = await stat(join(root, 'packages/artifacts/com.ex.Unzip/1.0.0/secret.txt'));
    expect(secret.mode & 0o777).toBe(0o400);
    expect(secret.uid).toBe(n.runAs.uid);
    const work = await stat(join(root, 'work', 'com.ex.Unzip'));
    expect(work.mode & 0o777).toBe(0o700);
  });
});

describe('nucleus emulator: redeploying a version already on the device', () => {
  it('unarchives again only the entries missing or of another size; what the component wrote there stays', async () => {
    cloud.artifacts.set('s3://bucket/keep.zip', await zip({ 'a.txt': 'original-a', 'b.txt': 'original-b', 'c.txt': 'original-c' }));
    cloud.add('com.ex.Keep', '1.0.0', recipe('com.ex.Keep', '1.0.0', `Manifests:
  - Platform: { os: linux }
    Artifacts:
      - { URI: s3://bucket/keep.zip, Unarchive: ZIP, Permission: { Read: ALL } }
    Lifecycle:
      Run: "true"
`));
    const n = await boot();
    expect((await n.deploy({ deploymentId: 'd1', components: { 'com.ex.Keep': { componentVersion: '1.0.0' } } })).reason).toBeUndefined();
    await n.waitForState('com.ex.Keep', 'FINISHED');
    const folder = join(dir, 'v2', 'packages/artifacts-unarchived/com.ex.Keep/1.0.0/keep');
    await writeFile(join(folder, 'a.txt'), 'changed!!!'); // same size: the nucleus leaves it
    await writeFile(join(folder, 'b.txt'), 'short'); // another size: written again
    await rm(join(folder, 'c.txt')); // missing: written again
    await writeFile(join(folder, 'written-by-the-component.txt'), 'x');
    // A second deployment with the same version (a configuration change): every component in it is prepared again.
    const again = await n.deploy({ deploymentId: 'd2', components: { 'com.ex.Keep': { componentVersion: '1.0.0', configurationUpdate: { merge: '{"k":1}' } } } });
    expect(again.reason).toBeUndefined();
    const read = (f: string) => readFile(join(folder, f), 'utf8');
    expect([await read('a.txt'), await read('b.txt'), await read('c.txt'), await read('written-by-the-component.txt')]).toEqual(['changed!!!', 'original-b', 'original-c', 'x']);
  });
});

describe('nucleus emulator: recipe variables', () => {
  const accessRecipe = (name: string): string =>
    recipe(name, '1.0.0', `ComponentConfiguration:
  DefaultConfiguration:
    topic: "{iot:thingName}/status"
Manifests:
  - Lifecycle: { Run: "echo topic={configuration:/topic}" }
`);

  it('interpolates component configuration only with interpolateComponentConfiguration', async () => {
    cloud.add('com.ex.Vars', '1.0.0', accessRecipe('com.ex.Vars'));
    let n = await boot(false);
    await n.deploy({ deploymentId: 'd1', components: { 'com.ex.Vars': { componentVersion: '1.0.0' } } });
    expect(n.configuration('com.ex.Vars')).toEqual({ topic: '{iot:thingName}/status' });
    await n.stop();
    n = await boot(true);
    await n.deploy({ deploymentId: 'd2', components: { 'com.ex.Vars': { componentVersion: '1.0.0' } } });
    expect(n.configuration('com.ex.Vars')).toEqual({ topic: 'thing-1/status' });
  });

  it('resolves cross-component variables only for declared dependencies', async () => {
    cloud.add('com.ex.Dep', '1.0.0', recipe('com.ex.Dep', '1.0.0', `ComponentConfiguration: { DefaultConfiguration: { port: 8080 } }\nManifests:\n  - Lifecycle: { Run: "echo dep" }\n`));
    cloud.add('com.ex.Other', '1.0.0', recipe('com.ex.Other', '1.0.0', `Manifests:\n  - Lifecycle: { Run: "echo other" }\n`));
    cloud.add('com.ex.Main', '1.0.0', recipe('com.ex.Main', '1.0.0', `ComponentDependencies:
  com.ex.Dep: { VersionRequirement: ">=1.0.0 <2.0.0", DependencyType: SOFT }
Manifests:
  - Lifecycle: { Run: "echo 'dep={com.ex.Dep:work:path} port={com.ex.Dep:configuration:/port} other={com.ex.Other:work:path}'" }
`));
    const n = await boot();
    const outcome = await n.deploy({ deploymentId: 'd1', components: { 'com.ex.Main': { componentVersion: '1.0.0' }, 'com.ex.Other': { componentVersion: '1.0.0' } } });
    expect(outcome.status).toBe('SUCCEEDED');
    await n.waitForState('com.ex.Main', 'FINISHED');
    expect(n.logs('com.ex.Main')).toContain(`dep=${join(dir, 'v2', 'work', 'com.ex.Dep')} port=8080 other={com.ex.Other:work:path}`);
    expect(n.installedVersion('com.ex.Dep')).toBe('1.0.0');
  });

  it('leaves a cross-component variable naming a hyphenated component literal; checks the nucleus version; an Install-only component stays FINISHED', async () => {
    cloud.add('com.ex-hyphen.Dep', '1.0.0', recipe('com.ex-hyphen.Dep', '1.0.0', `Manifests:\n  - Lifecycle: { Install: "echo installed" }\n`));
    cloud.add('com.ex.Uses', '1.0.0', recipe('com.ex.Uses', '1.0.0', `ComponentDependencies:
  aws.greengrass.Nucleus: { VersionRequirement: ">=2.6.0 <3.0.0", DependencyType: SOFT }
  com.ex-hyphen.Dep: { VersionRequirement: ">=1.0.0", DependencyType: SOFT }
Manifests:
  - Lifecycle: { Install: "echo 'dep={com.ex-hyphen.Dep:work:path}'" }
`));
    cloud.add('com.ex.TooNew', '1.0.0', recipe('com.ex.TooNew', '1.0.0', `ComponentDependencies:
  aws.greengrass.Nucleus: { VersionRequirement: ">=3.0.0", DependencyType: SOFT }
Manifests:
  - Lifecycle: { Run: "echo never" }
`));
    const n = await boot();
    expect(await n.deploy({ deploymentId: 'd1', components: { 'com.ex.Uses': { componentVersion: '1.0.0' } } })).toMatchObject({ status: 'SUCCEEDED' });
    expect(n.logs('com.ex.Uses')).toContain('dep={com.ex-hyphen.Dep:work:path}');
    await new Promise((r) => setTimeout(r, 300));
    expect(n.state('com.ex.Uses')).toBe('FINISHED');
    expect(n.state('com.ex-hyphen.Dep')).toBe('FINISHED');
    expect(n.stateHistory('com.ex.Uses').filter((st) => st === 'STARTING')).toHaveLength(1);
    const refused = await n.deploy({ deploymentId: 'd2', components: { 'com.ex.TooNew': { componentVersion: '1.0.0' } } });
    expect(refused).toMatchObject({ status: 'FAILED' });
    expect(refused.reason).toMatch(/aws\.greengrass\.Nucleus@2\.14\.3 does not satisfy/);
  });
});

describe('nucleus emulator: stopping', () => {
  it('sends SIGTERM, then SIGKILL 5 s later to a component that ignores it', async () => {
    cloud.add('com.ex.Stubborn', '1.0.0', recipe('com.ex.Stubborn', '1.0.0', `Manifests:\n  - Lifecycle: { Run: "trap 'echo got-term' TERM; echo up; while true; do sleep 0.2; done" }\n`));
    cloud.add('com.ex.Polite', '1.0.0', recipe('com.ex.Polite', '1.0.0', `Manifests:\n  - Lifecycle: { Run: "trap 'echo bye; exit 0' TERM; echo up; while true; do sleep 0.2; done" }\n`));
    const n = await boot();
    await n.deploy({ deploymentId: 'd1', components: { 'com.ex.Stubborn': { componentVersion: '1.0.0' }, 'com.ex.Polite': { componentVersion: '1.0.0' } } });
    // The deployment is done once the Run steps are spawned, not once their shells have set their traps: a SIGTERM
    // before `trap` kills the shell outright, which is not what this test is about.
    for (let i = 0; i < 100 && !['com.ex.Stubborn', 'com.ex.Polite'].every((c) => n.logs(c).includes('up')); i += 1) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await n.stop();
    nucleus = undefined;
    const stubborn = n.processEnds('com.ex.Stubborn').find((e) => e.step === 'run');
    const polite = n.processEnds('com.ex.Polite').find((e) => e.step === 'run');
    expect(polite).toMatchObject({ terminated: true, killedAfterTimeout: false, code: 0 });
    expect(stubborn).toMatchObject({ terminated: true, killedAfterTimeout: true, signal: 'SIGKILL' });
    expect(n.logs('com.ex.Stubborn')).toContain('got-term');
  }, 20_000);
});

describe('nucleus emulator: configuration and restarts', () => {
  const svc = 'com.ex.Conf';
  const conf = (version: string, extra = ''): string =>
    recipe(svc, version, `ComponentConfiguration:
  DefaultConfiguration: { x: 1, nested: { a: 1, b: 2 }, list: [1, 2] }
Manifests:
  - Artifacts: [ { URI: s3://bucket/ipc-client.js } ]
    Lifecycle:
      Setenv: { X: "{configuration:/x}", SDK_PATH: "${SDK}", STAY: "1", OPS: '[{"kind":"watchConfig"}]' }
      Run: "echo start x=$X${extra}; exec node {artifacts:path}/ipc-client.js"
`);

  it('merges and resets without restarting, sends update events, restarts on Setenv/lifecycle and version changes', async () => {
    cloud.add(svc, '1.0.0', conf('1.0.0'));
    cloud.add(svc, '1.1.0', conf('1.1.0', ' v=1.1'));
    const n = await boot();
    const started = (): number => (n.logs(svc).match(/start x=/g) ?? []).length;
    await n.deploy({ deploymentId: 'd1', components: { [svc]: { componentVersion: '1.0.0', configurationUpdate: { merge: JSON.stringify({ nested: { a: 5 }, list: [9] }) } } } });
    expect(n.configuration(svc)).toEqual({ x: 1, nested: { a: 5, b: 2 }, list: [9] });
    const waitLog = async (text: string): Promise<void> => {
      for (let i = 0; i < 100 && !n.logs(svc).includes(text); i += 1) await new Promise((r) => setTimeout(r, 100));
      expect(n.logs(svc)).toContain(text);
    };
    await waitLog('ipc-done');
    await n.deploy({ deploymentId: 'd2', components: { [svc]: { componentVersion: '1.0.0', configurationUpdate: { reset: ['/list', '/nested/a'], merge: JSON.stringify({ nested: { c: 3 } }) } } } });
    expect(n.configuration(svc)).toEqual({ x: 1, nested: { a: 1, b: 2, c: 3 }, list: [1, 2] });
    // one event per changed key; the component's output may bring them in separate chunks
    await waitLog('config-event ["nested","c"]');
    await waitLog('config-event ["list"]');
    expect(started()).toBe(1);
    await n.deploy({ deploymentId: 'd3', components: { [svc]: { componentVersion: '1.0.0', configurationUpdate: { merge: JSON.stringify({ x: 2 }) } } } });
    await waitLog('start x=2');
    expect(started()).toBe(2);
    await n.deploy({ deploymentId: 'd4', components: { [svc]: { componentVersion: '1.1.0' } } });
    await waitLog('start x=2 v=1.1');
    expect(n.configuration(svc)).toMatchObject({ x: 2, nested: { a: 1, b: 2, c: 3 } });
    expect(n.stateHistory(svc).filter((s) => s === 'NEW').length).toBe(2);
  }, 30_000);
});

describe('nucleus emulator: IPC authorization and IoT Core', () => {
  it('matches mqttproxy resources with MQTT wildcards and pubsub resources as globs; retained publishes are dropped by IoT Core', async () => {
    const ops = [
      { kind: 'pubIot', topic: 'factory/line1/status' },
      { kind: 'pubIot', topic: 'factory/line1/x/status' },
      { kind: 'subIot', topic: 'cmd/#' },
      { kind: 'subLocal', topic: 'local/+/b' },
      { kind: 'subLocal', topic: 'local/x/y/b' },
      { kind: 'pubLocal', topic: 'local/#' },
      { kind: 'pubIot', topic: 'factory/line1/status', retain: true },
    ];
    cloud.add('com.ex.Ipc', '1.0.0', recipe('com.ex.Ipc', '1.0.0', `ComponentConfiguration:
  DefaultConfiguration:
    accessControl:
      aws.greengrass.ipc.mqttproxy:
        p1: { operations: ["aws.greengrass#PublishToIoTCore", "aws.greengrass#SubscribeToIoTCore"], resources: ["factory/+/status", "cmd/#"] }
      aws.greengrass.ipc.pubsub:
        p2: { operations: ["*"], resources: ["local/*/b"] }
Manifests:
  - Artifacts: [ { URI: s3://bucket/ipc-client.js } ]
    Lifecycle:
      Run: { Script: "node {artifacts:path}/ipc-client.js", Setenv: { SDK_PATH: "${SDK}", OPS: '${JSON.stringify(ops)}' } }
`));
    const watcher = await mqtt.connectAsync(broker.url);
    const seen: string[] = [];
    watcher.on('message', (t) => seen.push(t));
    await watcher.subscribeAsync('factory/#', { qos: 1 });
    const n = await boot();
    await n.deploy({ deploymentId: 'd1', components: { 'com.ex.Ipc': { componentVersion: '1.0.0' } } });
    await n.waitForState('com.ex.Ipc', 'FINISHED', 20_000);
    const results = [...n.logs('com.ex.Ipc').matchAll(/result (.*)/g)].map((m) => JSON.parse(m[1] as string) as { i: number; ok: boolean; error?: string });
    expect(results.map((r) => r.ok)).toEqual([true, false, true, true, true, false, true]);
    expect(results[1]?.error).toContain('Principal com.ex.Ipc is not authorized to perform aws.greengrass.ipc.mqttproxy:aws.greengrass#PublishToIoTCore on resource factory/line1/x/status');
    expect(n.ipcLog.filter((e) => !e.authorized).map((e) => e.operation)).toEqual(['PublishToIoTCore', 'PublishToTopic']);
    for (let i = 0; i < 50 && seen.length === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(['factory/line1/status']);
    expect(iot.refused).toEqual([{ topic: 'factory/line1/status', reason: 'iot:RetainPublish not allowed by the thing policy' }]);
    await watcher.endAsync();
  }, 30_000);
});

describe('nucleus emulator: rollback', () => {
  it('restores the previous version when the new one fails to install', async () => {
    const name = 'com.ex.Roll';
    cloud.add(name, '1.0.0', recipe(name, '1.0.0', `Manifests:\n  - Lifecycle: { Run: "echo v1; sleep 30" }\n`));
    cloud.add(name, '2.0.0', recipe(name, '2.0.0', `Manifests:\n  - Lifecycle: { Install: "echo installing; exit 4", Run: "echo v2; sleep 30" }\n`));
    const n = await boot();
    expect((await n.deploy({ deploymentId: 'd1', components: { [name]: { componentVersion: '1.0.0' } } })).status).toBe('SUCCEEDED');
    const outcome = await n.deploy({ deploymentId: 'd2', components: { [name]: { componentVersion: '2.0.0' } } });
    expect(outcome).toMatchObject({ status: 'FAILED', rolledBack: true });
    expect(outcome.reason).toContain('BROKEN');
    expect(n.installedVersion(name)).toBe('1.0.0');
    expect(n.state(name)).toBe('RUNNING');
    expect((n.logs(name).match(/installing/g) ?? []).length).toBe(3);
    const bad = await n.deploy({ deploymentId: 'd3', components: { [name]: { componentVersion: '3.0.0' } } });
    expect(bad).toMatchObject({ status: 'FAILED', rolledBack: true });
    expect(n.state(name)).toBe('RUNNING');
  }, 30_000);
});
