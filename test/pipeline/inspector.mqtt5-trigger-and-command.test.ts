import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectorApp } from '../../src/main.js';
import { waitFor } from '../peers/edge-agent-peer.js';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { type GreyCameraRig, startGreyCameraRig } from './inspector-rig.js';

/** PLC triggers and remote commands over MQTT 5 (the default protocol) against mosquitto, across a broker restart. */
describe('inspector: triggers and commands over MQTT 5', () => {
  let broker: MosquittoPeer;
  let rig: GreyCameraRig;
  let app: InspectorApp;

  beforeAll(async () => {
    broker = await startMosquitto();
    rig = await startGreyCameraRig({
      dirPrefix: 'le-mqtt5-',
      shade: 0x20,
      size: { width: 96, height: 96 },
      config: () => ({
        thingName: 'gw5',
        publish: { cloud: 'mqtt', local: 'mqtt', mqtt: { port: broker.port, clientId: 'gw5-cloud' }, localMqtt: { port: broker.port, clientId: 'gw5-local' } },
      }),
    });
    app = rig.app;
  });

  afterAll(async () => {
    await rig?.stop();
    await broker?.close();
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
