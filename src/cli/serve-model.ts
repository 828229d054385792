import { Command } from 'commander';
import { createLogger } from '../core/log.js';
import { underGreengrass } from '../greengrass/component-config.js';
import { createGrpcEdgeAgentServer } from '../model-server/adapters/grpc-server.js';
import { createModelServerMetrics } from '../model-server/adapters/prom-metrics.js';
import { hasStatusSection } from '../model-server/config-changes.js';
import { ModelServerService, SHUTDOWN_BUDGET } from '../model-server/model-server-service.js';
import { runtimesFor } from '../model-server/runtimes/index.js';
import { type ConfigOptions, resolveConfigLayers, withConfigOptions } from './config-options.js';
import { exitUnlessDrainedWithin, runUntilSignal } from './until-signal.js';

/** Past this after SIGTERM the process exits whatever is left (the nucleus SIGKILLs at 5 s). */
const HARD_STOP_MS = SHUTDOWN_BUDGET.drainMs + SHUTDOWN_BUDGET.unloadMs + 800;
/** Closing the nucleus connection must not eat the rest of the budget. */
const IPC_CLOSE_MS = 300;

/**
 * `lookout-edge serve-model`: our Edge-Agent-compatible model server, until SIGINT or SIGTERM. Under
 * Greengrass one nucleus connection serves the configuration, its updates (applied live) and UpdateState.
 * The health endpoint (/healthz, /readyz, /metrics) opens when the configuration has a `status` section.
 */
export function serveModelCommand(): Command {
  return withConfigOptions(new Command('serve-model').description('serve models over the Edge Agent gRPC protocol')).action(async (opts: ConfigOptions) => {
    const env = process.env;
    const bootLog = createLogger(opts.logLevel === undefined ? 'info' : (opts.logLevel as 'info'));
    // Loaded only under Greengrass: the IPC client (aws-iot-device-sdk-v2, native aws-crt) costs ~20 MB of RSS.
    const ipc = underGreengrass(env)
      ? new (await import('../greengrass/adapters/ipc-client.js')).GreengrassIpc({ log: bootLog.child({ stage: 'greengrass' }), env, callTimeoutMs: 10_000 })
      : undefined;
    await ipc?.start();
    try {
      let fromGreengrass: unknown;
      const readGreengrass = ipc ? async () => (fromGreengrass = await ipc.getConfiguration([])) : undefined;
      const resolved = await resolveConfigLayers(opts, env, readGreengrass).catch(async (err: unknown) => {
        await ipc?.updateState('ERRORED').catch(() => undefined);
        throw err;
      });
      const { config, below, above } = resolved;
      const log = createLogger(config.logging.level).child({ stage: 'model-server' });
      const service = new ModelServerService({
        config,
        below,
        above,
        runtimes: runtimesFor(config.modelServer.executionProviders),
        metrics: createModelServerMetrics(),
        createRpcServer: createGrpcEdgeAgentServer,
        log,
        ...(ipc ? { ipc } : {}),
        statusConfigured: hasStatusSection([...below.map((l) => l.values), fromGreengrass, ...above.map((l) => l.values)]),
      });
      await service.start();
      await runUntilSignal(service, log, HARD_STOP_MS);
    } finally {
      if (ipc) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([ipc.stop('exit'), new Promise((resolve) => (timer = setTimeout(resolve, IPC_CLOSE_MS)))]);
        clearTimeout(timer);
      }
      exitUnlessDrainedWithin();
    }
  });
}
