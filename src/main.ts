/**
 * Composition root of the inspector: the one place that builds adapters and wires the stages.
 * Everything else receives its dependencies and its own configuration slice.
 */
import { type CommandChannel, CommandProcessor, CommandService } from './commands/index.js';
import type { Config } from './config/schema.js';
import { LookoutError, toLookoutError } from './core/errors.js';
import type { Logger } from './core/log.js';
import { createEvidenceStore } from './evidence/adapters/create-evidence-store.js';
import { createReviewRoutes } from './evidence/review-routes.js';
import type { NucleusIpc } from './greengrass/nucleus-ipc.js';
import { createEdgeAgentRpc } from './inference/adapters/grpc-channel.js';
import { EdgeAgentClient } from './inference/edge-agent-client.js';
import { MaskStore } from './masks/mask-store.js';
import { sharpMaskImages } from './masks/adapters/sharp-mask-images.js';
import type { OutboxStats } from './outbox/outbox.js';
import { createSharpPreviewRenderer } from './pipeline/adapters/sharp-preview.js';
import type { Inspection } from './pipeline/ports.js';
import { Inspector } from './pipeline/inspector.js';
import { ModelSupervisor } from './pipeline/model-supervisor.js';
import { subscribeTriggers } from './pipeline/remote-triggers.js';
import { createPlcs } from './plc/create-plc.js';
import { createPreprocessor } from './preprocess/create-preprocessor.js';
import { SqliteOutbox } from './outbox/adapters/sqlite-outbox.js';
import { offlineWill } from './publish/agent-status.js';
import { DeliveryStack, type PublishPath } from './publish/delivery-stack.js';
import { GreengrassPublisher } from './publish/greengrass-publisher.js';
import type { PayloadContext } from './publish/payloads.js';
import { Topics } from './publish/topics.js';
import { loadTransports, type Transports } from './publish/create-transports.js';
import { createReportRoutes } from './reports/report-routes.js';
import { createFrameSource } from './sources/create-frame-source.js';
import { createPromMetrics } from './status/adapters/prom-metrics.js';
import { createStatusServer, type StatusServer } from './status/status-server.js';
import { readTlsPair } from './status/tls-files.js';

export interface InspectorApp {
  readonly inspector: Inspector;
  readonly config: Readonly<Config>;
  /** The status page, when enabled. */
  readonly statusUrl?: string;
  outboxStats(): OutboxStats;
  /** Restarts the status server with a new slice (live configuration). */
  restartStatus(config: Config['status']): Promise<void>;
  stop(reason: string): Promise<void>;
}

export interface InspectorAppDeps {
  readonly log: Logger;
  /** The nucleus connection when running under Greengrass (IPC publishing, state, configuration). */
  readonly ipc?: NucleusIpc;
}

interface Stoppable {
  stop(reason?: string): Promise<void>;
}

/** Builds and starts the whole inspector. On a start-up failure, whatever started is stopped again. */
export async function startInspectorApp(config: Readonly<Config>, { log, ipc }: InspectorAppDeps): Promise<InspectorApp> {
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

  try {
    const late: { inspector?: Inspector } = {}; // health messages describe the inspector built below
    const adapters = await deliveryAdapters(config, log, ipc);
    if (adapters.ownedIpc) await track('greengrass-ipc', adapters.ownedIpc).start();
    const stack = new DeliveryStack({
      topics: adapters.topics,
      payload: adapters.payload,
      outbox: adapters.outbox,
      ...(adapters.cloud ? { cloud: adapters.cloud } : {}),
      ...(adapters.local ? { local: adapters.local } : {}),
      outboxConfig: config.outbox,
      publish: config.publish,
      log: log.child({ stage: 'delivery' }),
      healthDetails: () => {
        const s = late.inspector?.status();
        return s ? { model: s.model, cameras: s.cameras.map((c) => ({ id: c.id, grade: c.source.grade, fps: c.source.fps })), ...(config.plc.modbus || config.plc.opcua ? { plc: plc.stats() } : {}) } : {};
      },
    });
    const masks = track('masks', new MaskStore({ config: config.masks, log: log.child({ stage: 'masks' }), images: sharpMaskImages }));
    await masks.start();
    const inference = track('inference', new EdgeAgentClient({ connect: createEdgeAgentRpc, config: config.inference, log: log.child({ stage: 'inference' }) }));
    await inference.start();
    const model = new ModelSupervisor({ client: inference, config: config.inference, log: log.child({ stage: 'model' }) });
    const evidence = config.evidence.enabled
      ? track('evidence', createEvidenceStore({ config: config.evidence, log: log.child({ stage: 'evidence' }), modelVersionOf: (c) => model.modelArnOf(c) }))
      : undefined;
    await evidence?.start();
    track('delivery', stack);
    await stack.start();
    // PLC outputs get each verdict the moment it exists (a fast sink); their triggers start once the inspector runs
    const plc = track('plc', await createPlcs(config.plc, { inspectNow: (camera, partId) => late.inspector!.inspectNow(camera, partId), log: log.child({ stage: 'plc' }) }));

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
      sinks: [{ name: 'plc', fast: true, accept: (inspection: Inspection) => plc.onVerdict(inspection.verdict) }, ...stack.sinks, ...(evidence ? [{ name: 'evidence', accept: (inspection: Inspection) => evidence.record(inspection) }] : [])],
      outboxStats: () => stack.outbox.stats(),
      partErrors: () => {
        const { relay, rejects } = stack.stats();
        return { ...(relay?.lastError ? { 'publish:cloud': relay.lastError } : {}), ...(rejects?.lastError ? { 'publish:reject': rejects.lastError } : {}), ...plc.errors() };
      },
      plcStats: () => plc.stats(),
      ...(evidence ? { evidenceStats: () => evidence.status() } : {}),
      log: log.child({ stage: 'pipeline' }),
    });
    late.inspector = inspector;
    track('inspector', inspector);
    await inspector.start();
    await plc.start();
    const control = inspector;

    // PLC triggers prefer the local path; remote commands come from the cloud (the local path only by
    // opt-in: status.commands.allowLocal). A refused subscription is logged and the inspector goes on
    // (the HTTP trigger and the status page still work).
    const triggerPath = stack.subscriber('local');
    if (triggerPath) {
      await subscribeTriggers({ subscriber: triggerPath, topics: stack.topics.triggers(), acceptsTriggers: (id) => inspector.acceptsTriggers(id), inspector, log: log.child({ stage: 'triggers' }) }).then(
        (off) => track('triggers', { stop: off }),
        (err: unknown) => log.error({ err: toLookoutError(err, 'SUBSCRIBE_FAILED').toJSON() }, 'PLC triggers over MQTT are off'),
      );
    }
    const commandPath = config.status.commands.enabled ? commandSubscriber(stack, config, log) : undefined;
    if (commandPath) {
      const channel: CommandChannel = {
        subscribe: async (topic, handler) => void (await commandPath.subscribe(topic, (_t, payload) => handler(payload))),
        publish: (topic, payload) => commandPath.publish(topic, payload, { qos: 1 }),
      };
      const processor = new CommandProcessor({ config: config.status.commands, control, log });
      const commands = new CommandService({ config: config.status.commands, channel, processor, topics: stack.topics.commands(), log });
      await commands.start().then(
        () => track('commands', commands),
        (err: unknown) => log.error({ err: toLookoutError(err, 'SUBSCRIBE_FAILED').toJSON() }, 'remote commands are off'),
      );
    }

    const mounts = evidence ? [createReviewRoutes({ store: evidence, log }), createReportRoutes({ history: evidence, log, timeZone: 'UTC' })] : [];
    let status: StatusServer | undefined;
    const startStatus = async (slice: Config['status']) => {
      if (!slice.enabled) return;
      status = createStatusServer({ config: slice, control, events: control.events, log, metrics: createPromMetrics(), mounts });
      await status.start();
    };
    await startStatus(config.status);

    return {
      inspector,
      config,
      ...(status ? { statusUrl: status.address().url } : {}),
      outboxStats: () => stack.outbox.stats(),
      restartStatus: async (slice) => {
        // a certificate or key that cannot be used leaves the running server as it is
        if (slice.enabled && slice.tls) await readTlsPair(slice.tls);
        await status?.stop('configuration changed');
        status = undefined;
        await startStatus(slice);
      },
      stop: async (reason) => {
        await status?.stop(reason);
        await stopAll(reason);
      },
    };
  } catch (err) {
    await stopAll('start-up failed');
    throw err;
  }
}

/**
 * The delivery path's adapters, as `publish` and `outbox` name them: the SQLite outbox, the cloud and
 * local publishers (Greengrass IPC or MQTT 5, with our last will), and the nucleus connection when a
 * path needs one and the caller has none to share (the caller of this starts and stops that one).
 */
export async function deliveryAdapters(config: Readonly<Config>, log: Logger, sharedIpc: NucleusIpc | undefined) {
  const { publish, thingName } = config;
  const transports = await loadTransports(publish);
  const topics = new Topics(publish.topicPrefix, thingName);
  const payload: PayloadContext = { thingName, maxInlineMaskBytes: publish.maxInlineMaskBytes };
  const dlog = log.child({ stage: 'delivery' });
  const needsIpc = publish.cloud === 'greengrass' || publish.local === 'greengrass';
  const ownedIpc = needsIpc && !sharedIpc ? transport(transports, 'greengrassIpc')({ log: dlog.child({ part: 'greengrass-ipc' }), callTimeoutMs: publish.publishTimeoutMs }) : undefined;
  const ipc = sharedIpc ?? ownedIpc;
  const path = (kind: 'greengrass' | 'mqtt' | 'none', role: 'cloud' | 'local'): PublishPath | undefined => {
    const retain = role === 'local' || publish.cloudRetain;
    if (kind === 'greengrass' && ipc) return { publisher: new GreengrassPublisher({ ipc, target: role === 'cloud' ? 'iot-core' : 'local' }), hasLastWill: false, retain };
    if (kind !== 'mqtt') return undefined;
    const broker = role === 'cloud' ? publish.mqtt : publish.localMqtt;
    const publisher = transport(transports, 'mqtt')({
      name: `${role}-mqtt`,
      broker,
      clientId: broker.clientId ?? `${thingName}-${role}`,
      publishTimeoutMs: publish.publishTimeoutMs,
      will: { ...offlineWill(topics, payload), retain },
      log: dlog.child({ part: `${role}-mqtt` }),
    });
    return { publisher, hasLastWill: true, retain };
  };
  return {
    topics,
    payload,
    outbox: new SqliteOutbox({ config: config.outbox, log: dlog.child({ part: 'outbox' }) }),
    cloud: path(publish.cloud, 'cloud'),
    local: path(publish.local, 'local'),
    ownedIpc,
  };
}

function transport<K extends keyof Transports>(transports: Transports, kind: K): NonNullable<Transports[K]> {
  const make = transports[kind];
  if (!make) throw new LookoutError('INTERNAL', `delivery: the ${kind} transport was not loaded for this configuration`);
  return make;
}

/**
 * Where remote commands come from: the cloud path; the local one (plant broker, local pub/sub) only
 * when `status.commands.allowLocal` says so, because anyone who can publish there could command us.
 */
function commandSubscriber(stack: DeliveryStack, config: Readonly<Config>, log: Logger): ReturnType<DeliveryStack['subscriber']> {
  const cloud = stack.subscriber('cloud', false);
  if (cloud) return cloud;
  const local = stack.subscriber('local', false);
  if (!local || config.status.commands.allowLocal) return local;
  log.warn(
    { stage: 'commands', transport: `publish.local: ${config.publish.local}`, key: 'status.commands.allowLocal' },
    'remote commands are off: with publish.cloud none the only command path is the local one, where anyone who can publish could pause cameras or set thresholds; set status.commands.allowLocal to true to accept them there',
  );
  return undefined;
}
