import { Command } from 'commander';
import { createLogger } from '../core/log.js';
import { createGrpcEdgeAgentServer } from '../model-server/adapters/grpc-server.js';
import { createModelServerMetrics } from '../model-server/adapters/prom-metrics.js';
import { hasStatusSection } from '../model-server/config-changes.js';
import { ModelServerService, SHUTDOWN_BUDGET } from '../model-server/model-server-service.js';
import { runtimesFor } from '../model-server/runtimes/index.js';
import { type ConfigOptions, resolveConfigLayers, withConfigOptions } from './config-options.js';
import { reportingErrored, withNucleus } from './nucleus-session.js';
import { runUntilSignal } from './until-signal.js';

/** Past this after SIGTERM the process exits whatever is left (the nucleus SIGKILLs at 5 s). */
const HARD_STOP_MS = SHUTDOWN_BUDGET.drainMs + SHUTDOWN_BUDGET.unloadMs + 800;

/**
 * `lookout-edge serve-model`: our Edge-Agent-compatible model server, until SIGINT or SIGTERM. Under
 * Greengrass one nucleus connection serves the configuration, its updates (applied live) and UpdateState.
 * The health endpoint (/healthz, /readyz, /metrics) opens when the configuration has a `status` section.
 */
export function serveModelCommand(): Command {
  return withConfigOptions(new Command('serve-model').description('serve models over the Edge Agent gRPC protocol')).action(async (opts: ConfigOptions) =>
    withNucleus(opts.logLevel, async (ipc) => {
      let fromGreengrass: unknown;
      const readGreengrass = ipc ? async () => (fromGreengrass = await ipc.getConfiguration([])) : undefined;
      const resolved = await reportingErrored(ipc, resolveConfigLayers(opts, process.env, readGreengrass));
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
    }),
  );
}
