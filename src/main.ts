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
import { EdgeAgentClient } from './inference/edge-agent-client.js';
import { MaskStore } from './masks/mask-store.js';
import type { OutboxStats } from './outbox/outbox.js';
import { createSharpPreviewRenderer } from './pipeline/adapters/sharp-preview.js';
import { Inspector } from './pipeline/inspector.js';
import { ModelSupervisor } from './pipeline/model-supervisor.js';
import { subscribeTriggers } from './pipeline/remote-triggers.js';
import { createPlcLinks, plcPartErrors } from './plc/create-plc-links.js';
import { createPreprocessor } from './preprocess/create-preprocessor.js';
import { DeliveryStack } from './publish/delivery-stack.js';
import { loadTransports } from './publish/transports.js';
import { createReportRoutes } from './reports/report-routes.js';
import { createFrameSource } from './sources/create-frame-source.js';
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
    const stack = new DeliveryStack({
      transports: await loadTransports(config.publish),
      thingName: config.thingName,
      outbox: config.outbox,
      publish: config.publish,
      log: log.child({ stage: 'delivery' }),
      ...(ipc ? { ipc } : {}),
      healthDetails: () => {
        const s = late.inspector?.status();
        return s ? { model: s.model, cameras: s.cameras.map((c) => ({ id: c.id, grade: c.source.grade, fps: c.source.fps })) } : {};
      },
    });
    const masks = track('masks', new MaskStore({ config: config.masks, log: log.child({ stage: 'masks' }) }));
    await masks.start();
    const inference = track('inference', new EdgeAgentClient({ config: config.inference, log: log.child({ stage: 'inference' }) }));
    await inference.start();
    const model = new ModelSupervisor({ client: inference, config: config.inference, log: log.child({ stage: 'model' }) });
    const evidence = config.evidence.enabled
      ? track('evidence', createEvidenceStore({ config: config.evidence, log: log.child({ stage: 'evidence' }), modelVersionOf: (c) => model.modelArnOf(c) }))
      : undefined;
    await evidence?.start();
    track('delivery', stack);
    await stack.start();
    // PLC I/O: each verdict is queued to the PLCs before the outbox write (never waited on); PLC triggers inspect like MQTT ones
    const refuse = (camera: string) => Promise.reject(new LookoutError('COMMAND_INVALID', `camera ${JSON.stringify(camera)} does not take triggers`));
    const plc = await createPlcLinks(config.plc, { inspect: (camera, partId) => (late.inspector?.acceptsTriggers(camera) ? late.inspector.inspectNow(camera, partId) : refuse(camera)), log });

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
      sink: {
        deliver: (verdict, mask) => {
          for (const link of plc) link.onVerdict(verdict);
          return stack.delivery.deliver(verdict, mask?.png);
        },
      },
      ...(evidence ? { evidence } : {}),
      outboxStats: () => stack.outbox.stats(),
      partErrors: () => {
        const { relay, rejects } = stack.stats();
        return { ...(relay?.lastError ? { 'publish:cloud': relay.lastError } : {}), ...(rejects?.lastError ? { 'publish:reject': rejects.lastError } : {}), ...plcPartErrors(plc) };
      },
      log: log.child({ stage: 'pipeline' }),
    });
    late.inspector = inspector;
    track('inspector', inspector);
    await inspector.start();
    for (const link of plc) await track('plc', link).start();
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
      status = createStatusServer({ config: slice, control, events: control.events, log, mounts });
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
