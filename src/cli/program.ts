import { Command, CommanderError } from 'commander';
import { isLookoutError } from '../core/errors.js';
import { configCommand } from './config.js';
import { evaluateCommand } from './evaluate.js';
import { trainCommand } from './train.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { notBuiltYet } from './not-built.js';
import { withConfigOptions } from './config-options.js';

/** `lookout-edge <command>`: parses flags and hands over to the app; no logic lives here. */
export function buildProgram(): Command {
  const program = new Command('lookout-edge')
    .description('Edge inspection agent for AWS IoT Greengrass v2, speaking the Lookout for Vision Edge Agent protocol')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();

  withConfigOptions(program.command('run').description('run the inspector: cameras → model → verdicts → MQTT')).action(() => notBuiltYet('run'));
  withConfigOptions(program.command('serve-model').description('serve models over the Edge Agent gRPC protocol')).action(() => notBuiltYet('serve-model'));
  program.addCommand(trainCommand());
  program.addCommand(evaluateCommand());
  program.command('demo').description('run the whole system locally on generated images').action(() => notBuiltYet('demo'));
  const deploy = program.command('deploy').description('publish components and deploy them to Greengrass fleets');
  for (const sub of ['publish', 'deploy', 'rollout-model', 'status', 'package-lfv-model']) {
    deploy.command(sub).description(`deploy ${sub}`).action(() => notBuiltYet(`deploy ${sub}`));
  }
  program.addCommand(configCommand());
  return program;
}

export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exitCode 0.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (isLookoutError(err)) {
      process.stderr.write(`lookout-edge: ${err.message}\n`);
      return exitCodeFor(err.code);
    }
    process.stderr.write(`lookout-edge: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.FAILURE;
  }
}
