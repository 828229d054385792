import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/demo/adapters/embedded-broker.js';
import { parseTrigger } from '../../src/pipeline/remote-triggers.js';
import { waitFor } from '../peers/edge-agent-peer.js';
import { type GreyCameraRig, startGreyCameraRig } from './inspector-rig.js';

/** A PLC asks over MQTT "inspect part A-77" and reads the verdict for A-77; here through the embedded MQTT 3.1.1 broker. */
describe('inspector: PLC trigger over MQTT (embedded broker, MQTT 3.1.1)', () => {
  let broker: EmbeddedBroker;
  let rig: GreyCameraRig;
  let plc: mqtt.MqttClient;
  const verdicts: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    const mqttCfg = { port: broker.port, protocolVersion: 4 };
    rig = await startGreyCameraRig({
      dirPrefix: 'le-trigger-',
      shade: 0x20,
      size: { width: 128, height: 96 },
      config: () => ({
        thingName: 'gw',
        publish: { cloud: 'mqtt', local: 'mqtt', mqtt: { ...mqttCfg, clientId: 'gw-cloud' }, localMqtt: { ...mqttCfg, clientId: 'gw-local' } },
      }),
    });
    plc = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 4, clientId: 'plc' });
    await plc.subscribeAsync('lookout/gw/cam1/verdict', { qos: 1 });
    plc.on('message', (_t, payload) => verdicts.push(JSON.parse(payload.toString()) as Record<string, unknown>));
  });

  afterAll(async () => {
    await plc?.endAsync();
    await rig?.stop();
    await broker?.stop();
  });

  it('inspects the part named in the trigger and publishes its verdict', async () => {
    // the inspector subscribes after it connects; retry the trigger until it is heard
    await waitFor(
      async () => {
        await plc.publishAsync('lookout/gw/cam1/trigger', JSON.stringify({ partId: 'A-77' }), { qos: 1 });
        return verdicts.some((v) => v.partId === 'A-77');
      },
      10_000,
      'verdict for A-77',
    );
    expect(verdicts.find((v) => v.partId === 'A-77')).toMatchObject({ cameraId: 'cam1', outcome: 'pass', basis: 'model' });
  });

  it('ignores malformed triggers without harm', async () => {
    await plc.publishAsync('lookout/gw/cam1/trigger', '{not json', { qos: 1 });
    await plc.publishAsync('lookout/gw/cam1/trigger', JSON.stringify({ partId: 'bad id with spaces' }), { qos: 1 });
    await plc.publishAsync('lookout/gw/cam1/trigger', JSON.stringify({ partId: 'B-1' }), { qos: 1 });
    await waitFor(() => verdicts.some((v) => v.partId === 'B-1'), 10_000, 'verdict for B-1');
    expect(verdicts.filter((v) => v.partId === 'B-1')).toHaveLength(1);
    expect(verdicts.every((v) => v.partId === 'A-77' || v.partId === 'B-1')).toBe(true);
  });

  it('parses triggers strictly', () => {
    expect(parseTrigger(Buffer.alloc(0))).toEqual({ ok: true });
    expect(parseTrigger(Buffer.from('{"partId":"P-1"}'))).toEqual({ ok: true, partId: 'P-1' });
    expect(parseTrigger(Buffer.from('{"partId":"P 1"}')).ok).toBe(false);
    expect(parseTrigger(Buffer.from('{"part":"P-1"}')).ok).toBe(false);
    expect(parseTrigger(Buffer.alloc(5000, 32)).ok).toBe(false);
  });
});
