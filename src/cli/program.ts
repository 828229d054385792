import { Command, CommanderError } from 'commander';
import { isLookoutError } from '../core/errors.js';
import { configCommand } from './config.js';
import { camerasCommand } from './cameras.js';
import { datasetCommand } from './dataset.js';
import { demoCommand } from './demo.js';
import { deployCommand } from './deploy.js';
import { evaluateCommand } from './evaluate.js';
import { featureExtractorCommand } from './feature-extractor.js';
import { inspectCommand } from './inspect.js';
import { modelCommand } from './model.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { trainCommand } from './train.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { serveModelCommand } from './serve-model.js';

/** `lookout-edge <command>`: parses flags and hands over to the app; no logic lives here. */
export function buildProgram(): Command {
  const program = new Command('lookout-edge')
    .description('Edge inspection agent for AWS IoT Greengrass v2, speaking the Lookout for Vision Edge Agent protocol')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();

  program.addCommand(runCommand());
  program.addCommand(serveModelCommand());
  program.addCommand(trainCommand());
  program.addCommand(evaluateCommand());
  program.addCommand(featureExtractorCommand());
  program.addCommand(demoCommand());
  program.addCommand(deployCommand());
  program.addCommand(inspectCommand());
  program.addCommand(reportCommand());
  program.addCommand(datasetCommand());
  program.addCommand(modelCommand());
  program.addCommand(configCommand());
  program.addCommand(camerasCommand());
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
