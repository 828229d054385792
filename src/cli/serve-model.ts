import { Command } from 'commander';
import { createLogger } from '../core/log.js';
import { RUNTIMES } from '../model-server/runtimes/index.js';
import { serveModels } from '../model-server/serve.js';
import { type ConfigOptions, resolveConfig, withConfigOptions } from './config-options.js';

/** `lookout-edge serve-model`: our Edge-Agent-compatible model server, until SIGINT or SIGTERM. */
export function serveModelCommand(): Command {
  return withConfigOptions(new Command('serve-model').description('serve models over the Edge Agent gRPC protocol')).action(async (opts: ConfigOptions) => {
    const config = await resolveConfig(opts, process.env);
    const log = createLogger(config.logging.level).child({ stage: 'model-server' });
    const stop = new AbortController();
    const onSignal = (signal: NodeJS.Signals): void => stop.abort(signal);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await serveModels({ config: config.modelServer, runtimes: RUNTIMES, log, signal: stop.signal });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
}
