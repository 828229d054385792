import mqtt from 'mqtt';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { type InspectorApp, startInspectorApp } from '../../src/main.js';
import type { HttpCamera } from '../peers/http-camera.js';
import { removeDir, startServer, tempDir, type TestServer, waitFor } from '../peers/edge-agent-peer.js';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { greyCamera, inspectorConfig } from './kit.js';

/**
 * With publish.cloud none the only path for remote commands is the plant broker, where any machine on
 * the plant network may publish: commands are off there unless status.commands.allowLocal turns them on.
 */
describe('inspector: remote commands on the plant broker are an explicit opt-in', () => {
  let dir: string;
  let agent: TestServer;
  let broker: MosquittoPeer;
  let camera: HttpCamera;
  let plant: mqtt.MqttClient;
  let app: InspectorApp | undefined;
  const messages: Array<{ topic: string; body: Record<string, unknown> }> = [];

  beforeAll(async () => {
    dir = await tempDir('le-plant-commands-');
    agent = await startServer([{ component: 'm1', manifest: { input: { width: 96, height: 96 } } }], { dir });
    broker = await startMosquitto();
    camera = await greyCamera(0x20);
    plant = await mqtt.connectAsync(broker.url, { clientId: 'someone-on-the-plant-network' });
    plant.on('message', (topic, payload) => messages.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
    await plant.subscribeAsync(['lookout/gw/command/response', 'lookout/gw/cam1/verdict'], { qos: 1 });
  });

  afterEach(async () => {
    await app?.stop('test');
    app = undefined;
    messages.length = 0;
  });

  afterAll(async () => {
    await plant?.endAsync();
    await camera?.stop();
    await broker?.close();
    await agent?.stop();
    await removeDir(dir);
  });

  async function start(commands: Record<string, unknown>): Promise<{ app: InspectorApp; logs: Array<Record<string, unknown>> }> {
    const logs: Array<Record<string, unknown>> = [];
    const sink = new PassThrough();
    sink.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)));
    const config = inspectorConfig(dir, {
      thingName: 'gw',
      inference: { endpoint: agent.address, modelComponent: 'm1' },
      cameras: [{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true } }],
      publish: { cloud: 'none', local: 'mqtt', localMqtt: { port: broker.port, clientId: 'gw-local' } },
      status: { enabled: false, commands },
    });
    app = await startInspectorApp(config, { log: createLogger('info', sink) });
    await waitFor(() => app?.inspector.status().model.status === 'RUNNING', 10_000, 'model RUNNING');
    return { app, logs };
  }

  /** A PLC trigger for `partId`, repeated until its verdict is seen (the inspector subscribes after it connects). */
  async function verdictFor(partId: string): Promise<void> {
    await waitFor(
      async () => {
        if (!messages.some((m) => m.body.partId === partId)) await plant.publishAsync('lookout/gw/cam1/trigger', JSON.stringify({ partId }), { qos: 1 });
        return messages.some((m) => m.body.partId === partId);
      },
      10_000,
      `verdict for ${partId}`,
    );
  }

  it('by default ignores a pause from the plant broker, and says once at start-up why and which key turns commands on', async () => {
    const { app, logs } = await start({});
    const warnings = logs.filter((l) => l.level === 40 && String(l.msg).startsWith('remote commands are off'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ key: 'status.commands.allowLocal' });

    await verdictFor('P-1');
    await plant.publishAsync('lookout/gw/command/request', JSON.stringify({ transaction: 't-pause', command: 'pause', camera: 'cam1' }), { qos: 1 });
    // the broker delivers in order: once the next trigger's verdict is back, the pause has passed by
    await verdictFor('P-2');
    expect(app.inspector.status().cameras[0]?.paused).toBe(false);
    expect(messages.filter((m) => m.topic === 'lookout/gw/command/response')).toEqual([]);
  });

  it('obeys a pause from the plant broker when status.commands.allowLocal is true', async () => {
    const { app, logs } = await start({ allowLocal: true });
    expect(logs.filter((l) => String(l.msg).startsWith('remote commands are off'))).toEqual([]);

    await verdictFor('P-3');
    await plant.publishAsync('lookout/gw/command/request', JSON.stringify({ transaction: 't-pause', command: 'pause', camera: 'cam1' }), { qos: 1 });
    await waitFor(() => messages.some((m) => m.body.transaction === 't-pause'), 10_000, 'command response');
    expect(messages.find((m) => m.body.transaction === 't-pause')?.body).toMatchObject({ ok: true });
    expect(app.inspector.status().cameras[0]?.paused).toBe(true);
  });
});
