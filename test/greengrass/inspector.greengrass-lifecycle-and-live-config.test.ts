import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { GreengrassIpc } from '../../src/greengrass/adapters/ipc-client.js';
import { resolveConfigLayers } from '../../src/cli/config-options.js';
import { InspectorService } from '../../src/inspector-service.js';
import { type IpcPeer, startIpcPeer } from '../peers/greengrass-ipc-peer.js';
import { HttpCamera } from '../peers/http-camera.js';
import { removeDir, startServer, tempDir, waitFor } from '../peers/edge-agent-peer.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
});

/**
 * The inspector under a (protocol-level) Greengrass nucleus: configuration read over IPC, UpdateState
 * RUNNING once started, and deployments' configuration updates applied live through the real SDK client.
 */
describe('inspector under Greengrass: state and live configuration', () => {
  async function setUp() {
    const dir = await tempDir('le-gg-');
    cleanup.push(() => removeDir(dir));
    const agent = await startServer(
      [
        { component: 'model-v1', script: { score: 0.3 }, manifest: { input: { width: 96, height: 96 } } },
        { component: 'model-v2', script: { score: 0.8 }, startOnBoot: false, manifest: { input: { width: 96, height: 96 } } },
      ],
      { dir },
    );
    cleanup.push(() => agent.stop());
    const camera = new HttpCamera(await sharp({ create: { width: 96, height: 96, channels: 3, background: '#303030' } }).jpeg().toBuffer());
    await camera.start();
    cleanup.push(() => camera.stop());
    const peer = await startIpcPeer({ socketPath: join(dir, 'ipc.sock') });
    cleanup.push(() => peer.stop());
    const base = {
      accessControl: { 'aws.greengrass.ipc.mqttproxy': { 'com.lookoutedge.Inspector:mqtt:1': { operations: ['aws.greengrass#PublishToIoTCore'], resources: ['lookout/*'] } } },
      inference: { endpoint: agent.address, modelComponent: 'model-v1', pollIntervalMs: 50 },
      cameras: [{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true } }],
      outbox: { path: join(dir, 'outbox.sqlite') },
      masks: { dir: join(dir, 'masks') },
      evidence: { dir: join(dir, 'evidence') },
      status: { enabled: false },
    };
    peer.setConfiguration(base);
    const env = { ...peer.env(), AWS_IOT_THING_NAME: 'gg-thing' };
    const log = createLogger('silent');
    const ipc = new GreengrassIpc({ log, env, callTimeoutMs: 5_000 });
    await ipc.start();
    cleanup.push(() => ipc.stop('test'));
    const resolved = await resolveConfigLayers({}, env, () => ipc.getConfiguration([]));
    const service = new InspectorService({ resolved, log, ipc });
    await service.start();
    cleanup.push(() => service.stop('test'));
    await waitFor(() => service.inspectorApp?.inspector.status().model.status === 'RUNNING', 10_000, 'model RUNNING');
    // the configuration stream is opened in the background: under load it may still be on its way
    await waitFor(() => peer.requests.some((r) => r.operation === 'SubscribeToConfigurationUpdate'), 10_000, 'the configuration subscription');
    return { peer, service, base, camera };
  }

  const states = (peer: IpcPeer) => peer.requests.filter((r) => r.operation === 'UpdateState').map((r) => (r.body as { state?: string }).state);

  it('reads its configuration over IPC (accessControl set aside) and reports RUNNING once started', async () => {
    const { peer, service } = await setUp();
    expect(service.config.thingName).toBe('gg-thing');
    expect(service.config.cameras.map((c) => c.id)).toEqual(['cam1']);
    expect(states(peer)).toEqual(['RUNNING']);
  });

  it('applies a deployment live: a camera added, rules changed, the model switched; a bad update is refused', async () => {
    const { peer, service, base, camera } = await setUp();
    const app = () => service.inspectorApp!;
    const before = app();

    // add a camera and change the verdict rules
    peer.setConfiguration({ ...base, decide: { scoreThreshold: 0.2 }, cameras: [...base.cameras, { id: 'cam2', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true } }] });
    expect(peer.pushConfigurationUpdate(['cameras'])).toBeGreaterThan(0);
    await waitFor(() => app().inspector.status().cameras.length === 2, 10_000, 'second camera');
    expect(app()).toBe(before); // applied in place, not rebuilt
    const v = await app().inspector.inspectNow('cam2', 'p1');
    expect(v.outcome).toBe('reject'); // 0.3 ≥ new threshold 0.2

    // a bad update: refused with its problems, the last good configuration stays
    peer.setConfiguration({ ...base, status: { port: 'eighty' } });
    peer.pushConfigurationUpdate(['status']);
    const refused = await service.update({ ...base, status: { port: 'eighty' } });
    expect(refused.ok).toBe(false);
    expect(app().inspector.status().cameras.length).toBe(2);

    // a model rollout: traffic moves to model-v2 once it is RUNNING
    await service.update({ ...base, inference: { ...base.inference, modelComponent: 'model-v2' } });
    expect(app().inspector.status().model).toMatchObject({ component: 'model-v2', status: 'RUNNING' });
    expect((await app().inspector.inspectNow('cam1')).modelComponent).toBe('model-v2');
    expect(app()).toBe(before);
  });

  it('applies an update made while the nucleus was away once it is back (the stream does not replay it)', async () => {
    const { peer, service, base } = await setUp();
    const app = () => service.inspectorApp!;
    expect((await app().inspector.inspectNow('cam1')).outcome).toBe('pass'); // score 0.3 < 0.5
    peer.disconnectAll();
    peer.setConfiguration({ ...base, decide: { scoreThreshold: 0.2 } }); // no update event: nobody is connected
    await waitFor(async () => (await app().inspector.inspectNow('cam1')).outcome === 'reject', 10_000, 'the missed update applied after reconnection');
  });
});
