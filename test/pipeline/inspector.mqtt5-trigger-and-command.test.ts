import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { type InspectorApp, startInspectorApp } from '../../src/main.js';
import type { HttpCamera } from '../peers/http-camera.js';
import { removeDir, startServer, tempDir, type TestServer, waitFor } from '../peers/edge-agent-peer.js';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { greyCamera, inspectorConfig } from './kit.js';

/** PLC triggers and remote commands over MQTT 5 (the default protocol) against mosquitto, across a broker restart. */
describe('inspector: triggers and commands over MQTT 5', () => {
  let dir: string;
  let agent: TestServer;
  let broker: MosquittoPeer;
  let camera: HttpCamera;
  let app: InspectorApp;

  beforeAll(async () => {
    dir = await tempDir('le-mqtt5-');
    agent = await startServer([{ component: 'm1', manifest: { input: { width: 96, height: 96 } } }], { dir });
    broker = await startMosquitto();
    camera = await greyCamera(0x20);
    const config = inspectorConfig(dir, {
      thingName: 'gw5',
      inference: { endpoint: agent.address, modelComponent: 'm1' },
      cameras: [{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true } }],
      publish: { cloud: 'mqtt', local: 'mqtt', mqtt: { port: broker.port, clientId: 'gw5-cloud' }, localMqtt: { port: broker.port, clientId: 'gw5-local' } },
    });
    app = await startInspectorApp(config, { log: createLogger('silent') });
    await waitFor(() => app.inspector.status().model.status === 'RUNNING', 10_000, 'model RUNNING');
  });

  afterAll(async () => {
    await app?.stop('test');
    await camera?.stop();
    await broker?.close();
    await agent?.stop();
    await removeDir(dir);
  });

  it('serves a PLC trigger and a remote command, and subscribes again after the broker restarts', async () => {
    const plc = await mqtt.connectAsync(broker.url, { clientId: 'plc5', protocolVersion: 5 });
    const seen: Array<Record<string, unknown>> = [];
    plc.on('message', (_t, p) => seen.push(JSON.parse(p.toString()) as Record<string, unknown>));
    const listen = () => plc.subscribeAsync(['lookout/gw5/cam1/verdict', 'lookout/gw5/command/response'], { qos: 1 });
    // the inspector subscribes once it is connected: repeat the trigger until it is heard
    const ask = (partId: string) =>
      waitFor(
        async () => {
          await plc.publishAsync('lookout/gw5/cam1/trigger', JSON.stringify({ partId }), { qos: 1 }).catch(() => undefined);
          return seen.some((v) => v.partId === partId);
        },
        15_000,
        `verdict for ${partId}`,
      );
    try {
      await listen();
      await ask('M5-1');
      expect(seen.find((v) => v.partId === 'M5-1')).toMatchObject({ cameraId: 'cam1', outcome: 'pass', basis: 'model' });

      await plc.publishAsync('lookout/gw5/command/request', JSON.stringify({ transaction: 't5', command: 'pause', camera: 'cam1' }), { qos: 1 });
      await waitFor(() => seen.some((r) => r.transaction === 't5'), 10_000, 'command response');
      expect(seen.find((r) => r.transaction === 't5')).toMatchObject({ ok: true });
      expect(app.inspector.status().cameras[0]?.paused).toBe(true);
      app.inspector.resumeCamera('cam1');

      // clean sessions: the broker forgets every subscription; ours must be made again on reconnection
      await broker.stop();
      await broker.restart();
      await waitFor(() => plc.connected, 10_000, 'test client back');
      await listen();
      await ask('M5-2');
      await plc.publishAsync('lookout/gw5/command/request', '{"transaction":"t6","command":"no-such-command"}', { qos: 1 });
      await waitFor(() => seen.some((r) => r.transaction === 't6'), 10_000, 'error response');
      expect(seen.find((r) => r.transaction === 't6')).toMatchObject({ ok: false, error: { code: 'COMMAND_INVALID' } });
    } finally {
      await plc.endAsync();
    }
  });
});
