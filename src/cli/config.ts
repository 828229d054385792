import { Command } from 'commander';
import { configJsonSchema } from '../config/schema.js';
import { readTlsPair } from '../status/tls-files.js';
import { type ConfigOptions, resolveConfig, withConfigOptions } from './config-options.js';

export function configCommand(): Command {
  const cmd = new Command('config').description('validate configuration or print its JSON Schema');

  withConfigOptions(
    cmd
      .command('validate')
      .description('validate the layered configuration; prints every problem as `path: message`')
      .option('--print', 'print the effective configuration (secrets redacted) when valid'),
  ).action(async (opts: ConfigOptions & { print?: boolean }) => {
    const config = await resolveConfig(opts, process.env);
    // `run` reads the status server's certificate and key at start-up; validation refuses what it would.
    if (config.status.enabled && config.status.tls) await readTlsPair(config.status.tls);
    if (opts.print) {
      process.stdout.write(`${JSON.stringify(config, redactSecrets, 2)}\n`);
    } else {
      process.stdout.write('configuration is valid\n');
    }
  });

  cmd
    .command('schema')
    .description('print the configuration schema as JSON Schema')
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
  return cmd;
}

function redactSecrets(key: string, value: unknown): unknown {
  return ['password', 'token', 'secret'].includes(key) ? '[redacted]' : value;
}
