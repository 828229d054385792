import mqtt, { type MqttClient } from 'mqtt';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandChannel } from '../../src/commands/command-channel.js';
import { CommandProcessor } from '../../src/commands/command-processor.js';
import type { CommandResponse } from '../../src/commands/command-schema.js';
import { CommandService } from '../../src/commands/command-service.js';
import { statusSchema } from '../../src/config/slices/status.js';
import { createLogger } from '../../src/core/log.js';
import { Topics } from '../../src/publish/topics.js';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { FakeInspector } from '../helpers/fake-inspector.js';

/** The channel the lead builds over MQTT, here written directly on mqtt.js. */
function mqttChannel(client: MqttClient): CommandChannel {
  const handlers = new Map<string, (payload: Buffer) => void>();
  client.on('message', (topic, payload) => handlers.get(topic)?.(payload));
  return {
    async subscribe(topic, handler) {
      handlers.set(topic, handler);
      await client.subscribeAsync(topic, { qos: 1 });
    },
    async publish(topic, payload) {
      await client.publishAsync(topic, payload, { qos: 1 });
    },
  };
}

describe('remote commands over a real mosquitto broker', () => {
  let broker: MosquittoPeer;
  let agent: MqttClient;
  let cloud: MqttClient;
  let service: CommandService;
  const inspector = new FakeInspector(['cam1', 'cam2']);
  const topics = new Topics('lookout', 'line-7-station-2').commands();
  const responses = new Map<string, CommandResponse>();
  const untagged: CommandResponse[] = [];
  const logLines: string[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    const sink = new PassThrough();
    sink.on('data', (d: Buffer) => logLines.push(...d.toString().split('\n').filter(Boolean)));
    const log = createLogger('info', sink);
    const config = statusSchema.parse({ commands: { timeoutMs: 500 } }).commands;
    agent = await mqtt.connectAsync(broker.url, { clientId: 'agent', reconnectPeriod: 0, connectTimeout: 5_000 });
    cloud = await mqtt.connectAsync(broker.url, { clientId: 'cloud', reconnectPeriod: 0, connectTimeout: 5_000 });
    cloud.on('message', (_topic, payload) => {
      const response = JSON.parse(payload.toString()) as CommandResponse;
      if (response.transaction === null) untagged.push(response);
      else responses.set(response.transaction, response);
    });
    await cloud.subscribeAsync(topics.response, { qos: 1 });
    service = new CommandService({
      config,
      channel: mqttChannel(agent),
      processor: new CommandProcessor({ config, control: inspector, log }),
      topics,
      log,
    });
    await service.start();
  });

  afterAll(async () => {
    await service?.stop('test done');
    await agent?.endAsync();
    await cloud?.endAsync();
    await broker?.close();
  });

  async function send(request: unknown): Promise<CommandResponse> {
    const transaction = (request as { transaction?: string }).transaction;
    if (transaction === undefined) throw new Error('test requests carry a transaction');
    await cloud.publishAsync(topics.request, typeof request === 'string' ? request : JSON.stringify(request), { qos: 1 });
    const deadline = Date.now() + 5_000;
    while (!responses.has(transaction)) {
      if (Date.now() > deadline) throw new Error(`no response for ${transaction}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return responses.get(transaction) as CommandResponse;
  }

  it('uses <prefix>/<thing>/command/request and .../response', () => {
    expect(topics).toEqual({ request: 'lookout/line-7-station-2/command/request', response: 'lookout/line-7-station-2/command/response' });
  });

  it('sets a threshold, pauses and resumes a camera, echoing each transaction', async () => {
    expect(await send({ transaction: 't-1', command: 'set-threshold', camera: 'cam1', threshold: 0.42 })).toEqual({
      transaction: 't-1',
      ok: true,
      result: { camera: 'cam1', threshold: 0.42 },
    });
    expect(inspector.status().cameras[0]?.thresholdOverride).toBe(0.42);
    expect(await send({ transaction: 't-2', command: 'pause', camera: 'cam2' })).toMatchObject({ ok: true, result: { camera: 'cam2', paused: true } });
    expect(inspector.status().cameras[1]?.paused).toBe(true);
    expect(await send({ transaction: 't-3', command: 'resume', camera: 'cam2' })).toMatchObject({ ok: true });
    expect(inspector.status().cameras[1]?.paused).toBe(false);
  });

  it('captures a snapshot now and answers with its verdict; reloads the model', async () => {
    inspector.nextOutcome = 'reject';
    const snap = await send({ transaction: 't-4', command: 'snapshot', camera: 'cam1', partId: 'SN-9' });
    expect(snap).toMatchObject({ transaction: 't-4', ok: true, result: { verdict: { cameraId: 'cam1', outcome: 'reject', partId: 'SN-9' } } });
    inspector.setModelStatus('STOPPED');
    expect(await send({ transaction: 't-5', command: 'reload-model' })).toEqual({
      transaction: 't-5',
      ok: true,
      result: { component: 'widget-model', status: 'RUNNING' },
    });
  });

  it('answers errors instead of crashing: unknown command, bad camera, missing fields, failures, timeouts', async () => {
    expect(await send({ transaction: 'e-1', command: 'self-destruct' })).toMatchObject({ transaction: 'e-1', ok: false, error: { code: 'COMMAND_INVALID' } });
    expect(await send({ transaction: 'e-2', command: 'pause', camera: 'cam9' })).toMatchObject({
      ok: false,
      error: { code: 'COMMAND_INVALID', message: 'unknown camera "cam9"' },
    });
    expect(await send({ transaction: 'e-3', command: 'snapshot' })).toMatchObject({ ok: false, error: { code: 'COMMAND_INVALID' } });
    expect(await send({ transaction: 'e-4', command: 'set-threshold', camera: 'cam1', threshold: 7 })).toMatchObject({ ok: false });
    expect(await send({ transaction: 'e-5', command: 'pause', camera: 'cam1', extra: true })).toMatchObject({ ok: false });
    inspector.setModelStatus('FAILED');
    expect(await send({ transaction: 'e-6', command: 'snapshot', camera: 'cam1' })).toMatchObject({ ok: false, error: { code: 'MODEL_NOT_RUNNING' } });
    inspector.setModelStatus('RUNNING');
    inspector.inspectDelayMs = 2_000;
    expect(await send({ transaction: 'e-7', command: 'snapshot', camera: 'cam1' })).toMatchObject({ ok: false, error: { code: 'OPERATION_TIMEOUT' } });
    inspector.inspectDelayMs = 0;

    // Unparseable or oversized: answered with transaction null, and the service keeps working.
    await cloud.publishAsync(topics.request, '{"transaction": "x", ', { qos: 1 });
    await cloud.publishAsync(topics.request, JSON.stringify({ transaction: 'big', command: 'pause', camera: 'x'.repeat(20_000) }), { qos: 1 });
    const deadline = Date.now() + 5_000;
    while (untagged.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(untagged.map((r) => (r.ok ? 'ok' : r.error.code)).sort()).toEqual(['PAYLOAD_INVALID', 'PAYLOAD_INVALID']);
    expect(await send({ transaction: 'after', command: 'resume', camera: 'cam1' })).toMatchObject({ ok: true });
  });

  it('writes one audit line per command with transaction, command and outcome', () => {
    const audit = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.stage === 'audit');
    const t1 = audit.find((l) => l.transaction === 't-1');
    expect(t1).toMatchObject({ command: 'set-threshold', camera: 'cam1', outcome: 'ok' });
    expect(audit.find((l) => l.transaction === 'e-1')).toMatchObject({ command: 'self-destruct', outcome: 'error', error: { code: 'COMMAND_INVALID' } });
    expect(audit.filter((l) => l.transaction === 't-4')).toHaveLength(1);
  });
});
