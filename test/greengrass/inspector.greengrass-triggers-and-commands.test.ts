import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { GreengrassIpc } from '../../src/greengrass/adapters/ipc-client.js';
import { type InspectorApp, startInspectorApp } from '../../src/main.js';
import type { HttpCamera } from '../peers/http-camera.js';
import { type IpcPeer, startIpcPeer } from '../peers/greengrass-ipc-peer.js';
import { removeDir, startServer, tempDir, type TestServer, waitFor } from '../peers/edge-agent-peer.js';
import { greyCamera, inspectorConfig } from '../pipeline/kit.js';

/**
 * The inspector on a Greengrass device (both paths over IPC, as the recipe's defaults): a PLC bridge
 * component triggers over local pub/sub, the cloud team sends commands through IoT Core, and both keep
 * working after the nucleus restarts.
 */
describe('inspector under Greengrass: PLC triggers over local pub/sub, remote commands over IoT Core', () => {
  let dir: string;
  let agent: TestServer;
  let camera: HttpCamera;
  let peer: IpcPeer;
  let ipc: GreengrassIpc;
  let app: InspectorApp;

  beforeAll(async () => {
    dir = await tempDir('le-gg-trig-');
    agent = await startServer([{ component: 'm1', manifest: { input: { width: 96, height: 96 } } }], { dir });
    camera = await greyCamera(0x30);
    peer = await startIpcPeer({ socketPath: join(dir, 'ipc.sock') });
    const log = createLogger('silent');
    ipc = new GreengrassIpc({ log, env: peer.env(), callTimeoutMs: 2_000, reconnect: { initialMs: 20, maxMs: 200 } });
    await ipc.start();
    const config = inspectorConfig(dir, {
      thingName: 'gg1',
      inference: { endpoint: agent.address, modelComponent: 'm1' },
      cameras: [{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true } }],
      publish: { cloud: 'greengrass', local: 'greengrass' },
    });
    app = await startInspectorApp(config, { log, ipc });
    await waitFor(() => app.inspector.status().model.status === 'RUNNING', 10_000, 'model RUNNING');
  });

  afterAll(async () => {
    await app?.stop('test');
    await ipc?.stop('test');
    await peer?.stop();
    await camera?.stop();
    await agent?.stop();
    await removeDir(dir);
  });

  /** What the inspector sent to IoT Core on `topic`, parsed. */
  const toCloud = (topic: string) =>
    peer.requests.filter((r) => r.operation === 'PublishToIoTCore' && r.topic === topic).map((r) => JSON.parse(r.payload?.toString() ?? 'null') as Record<string, unknown>);

  const trigger = (partId: string, camera = 'cam1') =>
    waitFor(
      () => {
        peer.publishLocal(`lookout/gg1/${camera}/trigger`, { partId });
        return toCloud(`lookout/gg1/${camera}/verdict`).some((v) => v.partId === partId);
      },
      10_000,
      `verdict for ${partId}`,
    );

  const command = async (request: Record<string, unknown>) => {
    const transaction = String(request.transaction);
    await waitFor(() => peer.deliverFromIoTCore('lookout/gg1/command/request', Buffer.from(JSON.stringify(request))) > 0, 5_000, 'the command subscription');
    await waitFor(() => toCloud('lookout/gg1/command/response').some((r) => r.transaction === transaction), 10_000, `response to ${transaction}`);
    return toCloud('lookout/gg1/command/response').find((r) => r.transaction === transaction);
  };

  it('inspects the part a local trigger names and publishes its verdict to IoT Core', async () => {
    expect(peer.requests.find((r) => r.operation === 'SubscribeToTopic')?.body).toMatchObject({ topic: 'lookout/gg1/+/trigger' });
    expect(peer.requests.find((r) => r.operation === 'SubscribeToIoTCore')?.body).toMatchObject({ topicName: 'lookout/gg1/command/request' });
    await trigger('GG-1');
    expect(toCloud('lookout/gg1/cam1/verdict').find((v) => v.partId === 'GG-1')).toMatchObject({ cameraId: 'cam1', basis: 'model' });
  });

  it('takes triggers for a camera added by a live update, and ignores cameras that take none', async () => {
    const cam1 = app.config.cameras[0]!;
    await app.inspector.applyCameras([cam1, { ...cam1, id: 'cam2' }, { ...cam1, id: 'cam3', trigger: { ...cam1.trigger!, enabled: false } }]);
    await trigger('GG-NEW', 'cam2');
    expect(toCloud('lookout/gg1/cam2/verdict').find((v) => v.partId === 'GG-NEW')).toMatchObject({ cameraId: 'cam2' });
    expect(peer.publishLocal('lookout/gg1/cam3/trigger', { partId: 'GG-NO' })).toBe(1);
    expect(peer.publishLocal('lookout/gg1/cam404/trigger', { partId: 'GG-NO' })).toBe(1);
    await trigger('GG-AFTER', 'cam2'); // a round trip after the ignored ones
    expect(JSON.stringify(peer.requests.map((r) => r.payload?.toString() ?? ''))).not.toContain('GG-NO');
    await app.inspector.applyCameras([cam1]);
  });

  it('answers remote commands from IoT Core, errors included, echoing the transaction', async () => {
    expect(await command({ transaction: 'g1', command: 'pause', camera: 'cam1' })).toMatchObject({ ok: true });
    expect(app.inspector.status().cameras[0]?.paused).toBe(true);
    expect(await command({ transaction: 'g2', command: 'resume', camera: 'nope' })).toMatchObject({ ok: false, error: { code: 'COMMAND_INVALID' } });
    expect(await command({ transaction: 'g3', command: 'resume', camera: 'cam1' })).toMatchObject({ ok: true });
    expect(app.inspector.status().cameras[0]?.paused).toBe(false);
  });

  it('keeps both subscriptions across a nucleus restart', async () => {
    const before = ipc.generation;
    peer.disconnectAll();
    await waitFor(() => ipc.generation > before && ipc.isConnected(), 5_000, 'a new IPC client');
    await trigger('GG-2');
    expect(await command({ transaction: 'g4', command: 'pause', camera: 'cam1' })).toMatchObject({ ok: true });
  });
});
