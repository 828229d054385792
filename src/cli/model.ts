import { Command } from 'commander';
import { LookoutError, toLookoutError } from '../core/errors.js';
import { RUNTIMES } from '../model-server/runtimes/index.js';
import { verifyModel, verifySummary } from '../model-server/verify-model.js';
import { promoteModel } from '../model-server/train/promote.js';

interface PromoteFlags {
  to: string;
  verifyLoad: boolean;
}

/**
 * `lookout-edge model promote <candidate> --to <models dir>/<component>`: a separate step (not an option of
 * train or evaluate) so a script can gate it on `evaluate --require-better` and a person can promote or
 * roll back a model they did not just train.
 *
 * `lookout-edge model verify <dir>`: what a model component's Install step runs, so a model that would not
 * serve fails the deployment (and the nucleus rolls it back) before any traffic moves to it.
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
  cmd
    .command('verify')
    .exitOverride()
    .showHelpAfterError()
    .description('load a model directory with the model server\'s runtimes and run one inference on a blank image; exit 0 with a summary, 78 when the model is unusable')
    .argument('<dir>', 'model directory (with manifest.json)')
    .action(async (dir: string) => {
      try {
        process.stdout.write(`${verifySummary(await verifyModel(dir, RUNTIMES))}\n`);
      } catch (err) {
        const e = toLookoutError(err);
        // An unusable model is a configuration problem of the deployment: EX_CONFIG (78).
        throw new LookoutError('CONFIG_INVALID', `model ${dir} is not usable (${e.code}): ${e.message}`, { cause: e });
      }
    });
  return cmd;
}
