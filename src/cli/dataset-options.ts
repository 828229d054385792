import { type Command, InvalidArgumentError } from 'commander';
import { LookoutError } from '../core/errors.js';
import type { DatasetSource } from '../model-server/train/load-dataset.js';
import type { TrainProgress } from '../model-server/train/progress.js';

// What the commands that learn from Lookout for Vision datasets (train, feature-extractor learn) share.

/** Commander's parser for a whole number (0 or more). */
export function wholeNumber(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number');
  return n;
}

/**
 * Adds --manifest and --dataset (both repeat and mix; the order given is kept, so the first copy of a
 * duplicate image wins) and --s3-root. The returned function lists the sources given, in that order, or
 * refuses with USAGE when there are none.
 */
export function withDatasetSources(cmd: Command, datasetHelp: string): (s3Root: string | undefined) => DatasetSource[] {
  const order: string[] = [];
  const collect = (v: string, prev: string[] | undefined): string[] => {
    order.push(v);
    return [...(prev ?? []), v];
  };
  cmd
    .option('--manifest <file>', 'Lookout for Vision / Ground Truth manifest (JSON Lines); repeat to merge datasets', collect)
    .option('--dataset <dir>', `${datasetHelp}; repeat to merge`, collect)
    .option('--s3-root <dir>', 'local folder standing in for the bucket of s3:// references (keys relative to it)');
  return (s3Root) => {
    if (order.length === 0) throw new LookoutError('USAGE', 'give at least one --manifest <file> or --dataset <dir>');
    return order.map((path) => ({ path, ...(s3Root ? { s3Root } : {}) }));
  };
}

/** One self-overwriting progress line on stderr. */
export function renderProgress(p: TrainProgress): void {
  const pct = p.total > 0 ? Math.round((100 * p.done) / p.total) : 100;
  process.stderr.write(`\r${p.stage.padEnd(9)} ${String(pct).padStart(3)}% (${p.done}/${p.total})${p.message ? ` ${p.message}` : ''}\u001b[K`);
}
