import mqtt from 'mqtt';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectorApp } from '../../src/main.js';
import { waitFor } from '../peers/edge-agent-peer.js';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { type GreyCameraRig, startGreyCameraRig } from './inspector-rig.js';

/** The real inspector behind its operator surface: status page, HTTP trigger, metrics, review, remote commands. */
describe('inspector operator surface (real pipeline, real broker)', () => {
  let broker: MosquittoPeer;
  let rig: GreyCameraRig;
  let app: InspectorApp;
  let url: string;

  beforeAll(async () => {
    broker = await startMosquitto();
    const mqttCfg = { port: broker.port, protocolVersion: 4 };
    rig = await startGreyCameraRig({
      dirPrefix: 'le-operator-',
      shade: 0x40,
      size: { width: 96, height: 96 },
      script: { score: 0.9 },
      config: () => ({
        thingName: 'gw',
        publish: { cloud: 'mqtt', local: 'mqtt', mqtt: { ...mqttCfg, clientId: 'gw-cloud' }, localMqtt: { ...mqttCfg, clientId: 'gw-local' } },
        status: { port: 0 },
      }),
    });
    app = rig.app;
    url = app.statusUrl!;
  });

  afterAll(async () => {
    await rig?.stop();
    await broker?.close();
  });

  it('is ready once the model runs, and a PLC PC gets the verdict of part 42 over HTTP', async () => {
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 10_000, 'ready');
    const res = await fetch(`${url}/api/cameras/cam1/trigger`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ partId: '42' }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ partId: '42', outcome: 'reject', basis: 'model' });

    await waitFor(async () => (await fetch(`${url}/api/cameras/cam1/latest.jpg`)).status === 200, 5_000, 'preview');
    const jpeg = Buffer.from(await (await fetch(`${url}/api/cameras/cam1/latest.jpg`)).arrayBuffer());
    expect((await sharp(jpeg).metadata()).format).toBe('jpeg');

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/lookout_edge_verdicts_total\{camera="cam1",outcome="reject"\} 1/);
    const status = (await (await fetch(`${url}/api/status`)).json()) as { cameras: Array<{ counts: { reject: number } }> };
    expect(status.cameras[0]?.counts.reject).toBe(1);
  });

  it('keeps the rejected frame for review and serves the review page and the defect report', async () => {
    await waitFor(async () => ((await (await fetch(`${url}/api/evidence?status=unreviewed`)).json()) as { items?: unknown[] }).items?.length === 1, 5_000, 'evidence');
    expect((await fetch(`${url}/review`)).status).toBe(200);
    expect((await fetch(`${url}/report`)).status).toBe(200);
  });

  it('answers remote commands over MQTT, echoing the transaction', async () => {
    const client = await mqtt.connectAsync(broker.url, { clientId: 'cloud-team' });
    try {
      const responses: Array<Record<string, unknown>> = [];
      client.on('message', (_t, p) => responses.push(JSON.parse(p.toString()) as Record<string, unknown>));
      await client.subscribeAsync('lookout/gw/command/response', { qos: 1 });
      await waitFor(
        async () => {
          await client.publishAsync('lookout/gw/command/request', JSON.stringify({ transaction: 't-1', command: 'set-threshold', camera: 'cam1', threshold: 0.95 }), { qos: 1 });
          return responses.some((r) => r.transaction === 't-1');
        },
        10_000,
        'command response',
      );
      expect(responses.find((r) => r.transaction === 't-1')).toMatchObject({ ok: true });
      expect(app.inspector.status().cameras[0]?.thresholdOverride).toBe(0.95);
      expect((await app.inspector.inspectNow('cam1')).outcome).toBe('pass');

      await client.publishAsync('lookout/gw/command/request', JSON.stringify({ transaction: 't-2', command: 'pause', camera: 'nope' }), { qos: 1 });
      await waitFor(() => responses.some((r) => r.transaction === 't-2'), 5_000, 'error response');
      expect(responses.find((r) => r.transaction === 't-2')).toMatchObject({ ok: false, error: { code: 'COMMAND_INVALID' } });
    } finally {
      await client.endAsync();
    }
  });
});
