import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/core/log.js';
import { inspectorConfig } from './kit.js';
import { type InspectorApp, startInspectorApp } from '../../src/main.js';
import { makeGarbage } from '../helpers/images.js';
import { removeDir, startServer, tempDir, type TestServer, waitFor } from '../peers/edge-agent-peer.js';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { redBlobRuntime } from './red-blob-runtime.js';

/** A part photo: grey tray, a lighter disc, and optionally a red defect blob. */
async function partJpeg(defect: boolean): Promise<Buffer> {
  const svg = `<svg width="320" height="240" xmlns="http://www.w3.org/2000/svg">
    <rect width="320" height="240" fill="#606060"/><circle cx="160" cy="120" r="80" fill="#b0a080"/>
    ${defect ? '<circle cx="180" cy="100" r="12" fill="#e01010"/>' : ''}</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 92 }).toBuffer();
}

interface Message {
  topic: string;
  body: Record<string, unknown>;
}

describe('inspector end to end: folder camera → our Edge Agent → rules → outbox → MQTT', () => {
  let dir: string;
  let agent: TestServer;
  let broker: MosquittoPeer;
  let app: InspectorApp;
  let subscriber: mqtt.MqttClient;
  const messages: Message[] = [];
  let config: Readonly<Config>;

  beforeAll(async () => {
    dir = await tempDir('le-pipeline-');
    await mkdir(join(dir, 'inbox'));
    agent = await startServer(
      [{ component: 'part-model', runtime: redBlobRuntime, manifest: { runtime: 'red-blob', input: { width: 160, height: 120 }, classes: [{ name: 'scratch', hexColor: '#23A436' }] } }],
      { dir },
    );
    broker = await startMosquitto();
    subscriber = await mqtt.connectAsync(broker.url, { clientId: 'test-subscriber' });
    await subscriber.subscribeAsync('lookout/#', { qos: 1 });
    subscriber.on('message', (topic, payload) => messages.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
    config = inspectorConfig(dir, {
      thingName: 'gateway-1',
      inference: { endpoint: agent.address, modelComponent: 'part-model', callTimeoutMs: 2_000, retry: { initialBackoffMs: 50, maxBackoffMs: 200 } },
      cameras: [{ id: 'line1', source: { type: 'folder', path: join(dir, 'inbox'), settleMs: 50 }, preprocess: { width: 160, height: 120 } }],
      publish: { cloud: 'mqtt', local: 'mqtt', mqtt: { port: broker.port }, localMqtt: { port: broker.port, clientId: 'gateway-1-local' } },
    });
    app = await startInspectorApp(config, { log: createLogger('silent') });
    await waitFor(() => app.inspector.status().model.status === 'RUNNING', 10_000, 'model RUNNING');
  });

  afterAll(async () => {
    await app?.stop('test done');
    await subscriber?.endAsync();
    await broker?.close();
    await agent?.stop();
    await removeDir(dir);
  });

  it('inspects every dropped file: normal passes, a defect is rejected with its mask, a corrupt file fails safe', async () => {
    await writeFile(join(dir, 'inbox', 'part-001.jpg'), await partJpeg(false));
    await writeFile(join(dir, 'inbox', 'part-002.jpg'), await partJpeg(true));
    await writeFile(join(dir, 'inbox', 'part-003.jpg'), makeGarbage(2048));

    await waitFor(() => messages.filter((m) => m.topic === 'lookout/gateway-1/line1/verdict').length >= 3, 15_000, 'three verdicts');
    const verdicts = messages.filter((m) => m.topic === 'lookout/gateway-1/line1/verdict').map((m) => m.body);
    expect(verdicts.map((v) => `${v.outcome}/${v.basis}`).sort()).toEqual(['pass/model', 'reject/frame-error', 'reject/model']);
    const defect = verdicts.find((v) => v.basis === 'model' && v.outcome === 'reject')!;
    expect(defect.DetectAnomalyResult).toMatchObject({ IsAnomalous: true, Anomalies: [{ Name: 'background' }, { Name: 'scratch', PixelAnomaly: { Color: '#23A436' } }] });
    expect(verdicts.find((v) => v.basis === 'frame-error')?.error).toMatchObject({ code: 'FRAME_CORRUPT' });

    const rejects = messages.filter((m) => m.topic === 'lookout/gateway-1/line1/reject');
    expect(rejects.length).toBeGreaterThanOrEqual(2);

    // each file moves once its verdict is durable, in reading order (the verdict may reach the broker first)
    const list = (sub: string) => readdir(join(dir, 'inbox', sub)).catch(() => [] as string[]);
    await waitFor(async () => (await list('processed')).length + (await list('failed')).length === 3, 5_000, 'the three files moved');
    const processed = await list('processed');
    const failed = await list('failed');
    expect(processed.sort()).toEqual(['part-001.jpg', 'part-002.jpg']);
    expect(failed).toEqual(['part-003.jpg']);
    expect((await readdir(join(dir, 'masks', 'line1'))).some((f) => f.endsWith('.png'))).toBe(true);

    // the evidence store keeps the rejected frame (with its mask) for operator review
    await waitFor(async () => (await readdir(join(dir, 'evidence'), { recursive: true })).some((f) => String(f).endsWith('.jpg')), 5_000, 'evidence frame');

    const status = app.inspector.status();
    expect(status.cameras[0]?.counts).toMatchObject({ pass: 1, reject: 2, errors: 1 });
    expect(status.latency.inference?.count).toBe(2);
  });
});
