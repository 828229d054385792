import { Command } from 'commander';
import { promoteModel } from '../train/promote.js';

interface PromoteFlags {
  to: string;
  verifyLoad: boolean;
}

/**
 * `lookout-edge model promote <candidate> --to <models dir>/<component>`: a separate step (not an option of
 * train or evaluate) so a script can gate it on `evaluate --require-better` and a person can promote or
 * roll back a model they did not just train.
 */
export function modelCommand(): Command {
  const cmd = new Command('model').description('manage model directories');
  cmd
    .command('promote')
    .exitOverride()
    .showHelpAfterError()
    .description('copy a model directory into place atomically (temp sibling, rename); the replaced one is kept as <component>.previous')
    .argument('<candidate>', 'model directory to promote (with manifest.json)')
    .requiredOption('--to <dir>', 'where it goes: <models dir>/<component>')
    .option('--no-verify-load', 'check the manifest only, do not load the model with its runtime')
    .action(async (candidate: string, flags: PromoteFlags) => {
      const result = await promoteModel({ candidate, target: flags.to, verifyLoad: flags.verifyLoad });
      process.stdout.write(
        `${JSON.stringify({ promoted: result.target, name: result.manifest.name, version: result.manifest.version, runtime: result.manifest.runtime, previous: result.previous }, null, 2)}\n`,
      );
    });
  return cmd;
}
