/**
 * Composition root of the inspector: the one place that builds adapters and wires the stages.
 * Everything else receives its dependencies and its own configuration slice.
 */
import type { Config, PublishConfig } from './config/schema.js';
import { toLookoutError } from './core/errors.js';
import type { Logger } from './core/log.js';
import { type CommandChannel, CommandProcessor, CommandService, commandTopics } from './commands/index.js';
import { createEvidenceStore } from './evidence/adapters/create-evidence-store.js';
import { createReviewRoutes } from './evidence/review-routes.js';
import { createReportRoutes } from './reports/report-routes.js';
import { createStatusServer } from './status/status-server.js';
import { EdgeAgentClient } from './inference/edge-agent-client.js';
import { MaskStore } from './masks/mask-store.js';
import { SqliteOutbox } from './outbox/adapters/sqlite-outbox.js';
import { OutboxRelay } from './outbox/relay.js';
import { createSharpPreviewRenderer } from './pipeline/adapters/sharp-preview.js';
import { Inspector } from './pipeline/inspector.js';
import { ModelSupervisor } from './pipeline/model-supervisor.js';
import { createPreprocessor } from './preprocess/create-preprocessor.js';
import { MqttJsPublisher } from './publish/adapters/mqtt-js-publisher.js';
import { Mqtt5Publisher } from './publish/adapters/mqtt5-publisher.js';
import { AgentStatus, offlineWill } from './publish/agent-status.js';
import { Delivery } from './publish/delivery.js';
import type { PayloadContext } from './publish/payloads.js';
import type { Publisher } from './publish/publisher.js';
import { RejectSignaller } from './publish/reject-signaller.js';
import { Topics } from './publish/topics.js';
import { createFrameSource } from './sources/create-frame-source.js';
import { canSubscribe, type Subscriber } from './publish/subscriber.js';
import { subscribeTriggers } from './pipeline/remote-triggers.js';

export interface InspectorApp {
  readonly inspector: Inspector;
  readonly outbox: SqliteOutbox;
  /** The status page, when enabled. */
  readonly statusUrl?: string;
  stop(reason: string): Promise<void>;
}

interface Stoppable {
  stop(reason?: string): Promise<void>;
}

/** Builds and starts the whole inspector. On a start-up failure, whatever started is stopped again. */
export async function startInspectorApp(config: Readonly<Config>, log: Logger): Promise<InspectorApp> {
  const started: Array<{ name: string; part: Stoppable }> = [];
  const track = <T extends Stoppable>(name: string, part: T): T => {
    started.push({ name, part });
    return part;
  };
  const stopAll = async (reason: string) => {
    for (const { name, part } of started.reverse()) {
      try {
        await part.stop(reason);
      } catch (err) {
        log.warn({ err: toLookoutError(err).toJSON(), part: name }, 'part did not stop cleanly');
      }
    }
    started.length = 0;
  };

  let statusUrl: string | undefined;
  try {
    const topics = new Topics(config.publish.topicPrefix, config.thingName);
    const payload: PayloadContext = { thingName: config.thingName, maxInlineMaskBytes: config.publish.maxInlineMaskBytes };

    const outbox = track('outbox', new SqliteOutbox({ config: config.outbox, log: log.child({ stage: 'outbox' }) }));
    await outbox.start();

    const cloud = createPublisher('cloud', config.publish.cloud, config.publish, topics, payload, log);
    const local = createPublisher('local', config.publish.local, config.publish, topics, payload, log);
    const rejects = local ? new RejectSignaller({ publisher: local, topics, payload, log: log.child({ stage: 'reject' }) }) : undefined;
    const delivery = new Delivery({ outbox, topics, payload, ...(rejects ? { rejects } : {}), log: log.child({ stage: 'delivery' }) });

    const masks = track('masks', new MaskStore({ config: config.masks, log: log.child({ stage: 'masks' }) }));
    await masks.start();

    const inference = track('inference', new EdgeAgentClient({ config: config.inference, log: log.child({ stage: 'inference' }) }));
    await inference.start();
    const model = new ModelSupervisor({ client: inference, config: config.inference, log: log.child({ stage: 'model' }) });

    const evidence = config.evidence.enabled
      ? track('evidence', createEvidenceStore({ config: config.evidence, log: log.child({ stage: 'evidence' }), modelVersionOf: (c) => model.modelArnOf(c) }))
      : undefined;
    await evidence?.start();

    const inspector = new Inspector({
      thingName: config.thingName,
      cameras: config.cameras,
      decideRules: config.decide,
      createSource: createFrameSource,
      createPreprocessor: (camera) => createPreprocessor(camera.preprocess),
      inference,
      model,
      masks,
      previews: createSharpPreviewRenderer(),
      sink: { deliver: (verdict, mask) => delivery.deliver(verdict, mask?.png) },
      ...(evidence ? { evidence } : {}),
      outboxStats: () => outbox.stats(),
      log: log.child({ stage: 'pipeline' }),
    });

    for (const [name, publisher] of [
      ['cloud', cloud],
      ['local', local],
    ] as const) {
      if (!publisher) continue;
      track(`publisher:${name}`, publisher);
      await publisher.start();
    }
    if (cloud) {
      const relay = track('relay', new OutboxRelay({ outbox, publisher: cloud, log: log.child({ stage: 'relay' }), config: config.outbox, publishTimeoutMs: config.publish.publishTimeoutMs }));
      await relay.start();
    }
    const statusPublishers = [cloud, local].filter((p): p is Publisher => p !== undefined).map((publisher) => ({ publisher, hasLastWill: true }));
    const agentStatus = track(
      'agent-status',
      new AgentStatus({
        publishers: statusPublishers,
        delivery,
        topics,
        payload,
        healthIntervalMs: config.publish.healthIntervalMs,
        details: () => ({ model: inspector.status().model, cameras: inspector.status().cameras.map((c) => ({ id: c.id, grade: c.source.grade, fps: c.source.fps })) }),
        log: log.child({ stage: 'agent-status' }),
      }),
    );

    track('inspector', inspector);
    await inspector.start();
    await agentStatus.start();

    // PLC triggers prefer the local path; remote commands come from the cloud.
    const subscribers = (order: Array<Publisher | undefined>) => order.find((p): p is Publisher & Subscriber => p !== undefined && canSubscribe(p));
    const triggerPath = subscribers([local, cloud]);
    const triggered = config.cameras.filter((c) => c.enabled && c.trigger?.enabled).map((c) => c.id);
    if (triggerPath && triggered.length > 0) {
      const offs = await subscribeTriggers({ subscriber: triggerPath, base: topics.base, cameraIds: triggered, inspector, log: log.child({ stage: 'triggers' }) });
      track('triggers', { stop: async () => void (await Promise.all(offs.map((off) => off()))) });
    }
    const commandPath = subscribers([cloud, local]);
    if (commandPath && config.status.commands.enabled) {
      const channel: CommandChannel = {
        subscribe: async (topic, handler) => void (await commandPath.subscribe(topic, (_t, payload) => handler(payload))),
        publish: (topic, payload) => commandPath.publish(topic, payload, { qos: 1 }),
      };
      const processor = new CommandProcessor({ config: config.status.commands, control: inspector, log });
      const commands = track('commands', new CommandService({ config: config.status.commands, channel, processor, topics: commandTopics(config.publish.topicPrefix, config.thingName), log }));
      await commands.start();
    }

    if (config.status.enabled) {
      const mounts = evidence ? [createReviewRoutes({ store: evidence, log }), createReportRoutes({ history: evidence, log, timeZone: 'UTC' })] : [];
      const status = track('status', createStatusServer({ config: config.status, control: inspector, events: inspector.events, log, mounts }));
      await status.start();
      statusUrl = status.address().url;
    }

    return { inspector, outbox, ...(statusUrl ? { statusUrl } : {}), stop: stopAll };
  } catch (err) {
    await stopAll('start-up failed');
    throw err;
  }
}

function createPublisher(
  role: 'cloud' | 'local',
  kind: PublishConfig['cloud'],
  config: PublishConfig,
  topics: Topics,
  payload: PayloadContext,
  log: Logger,
): Publisher | undefined {
  if (kind === 'none') return undefined;
  if (kind === 'mqtt') {
    const broker = role === 'cloud' ? config.mqtt : config.localMqtt;
    if (broker.protocolVersion === 4) {
      return new MqttJsPublisher({
        name: role,
        broker,
        clientId: broker.clientId ?? `${payload.thingName}-${role}`,
        publishTimeoutMs: config.publishTimeoutMs,
        will: offlineWill(topics, payload),
        log: log.child({ stage: 'publish', publisher: role }),
      });
    }
    return new Mqtt5Publisher({
      name: role,
      broker,
      clientId: broker.clientId ?? `${payload.thingName}-${role}`,
      publishTimeoutMs: config.publishTimeoutMs,
      will: offlineWill(topics, payload),
      log: log.child({ stage: 'publish', publisher: role }),
    });
  }
  throw new Error(`publisher "${kind}" is not wired yet`);
}
