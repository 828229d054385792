import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * One home per piece of infrastructure (issue 18, item 5): sleeping and deadlines in core/deadline.ts,
 * backoff in core/backoff.ts, the part-id rule in core/frame.ts, topic names in publish/topics.ts,
 * migrations through sqlite/adapters/migrate.ts, file names from ids through core/safe-name.ts. A
 * second copy tends to drift (a sleep that rejects on abort beside one that resolves; a jitter its
 * comment does not describe; a file-name rule that lets two ids share a file).
 */
const root = new URL('../../', import.meta.url).pathname;

async function sources(): Promise<Array<{ path: string; text: string }>> {
  const names = (await readdir(join(root, 'src'), { recursive: true })).map(String).filter((n) => n.endsWith('.ts'));
  return Promise.all(names.map(async (n) => ({ path: relative(root, join(root, 'src', n)), text: await readFile(join(root, 'src', n), 'utf8') })));
}

/** The code of a file without its comments (which may name a topic or a helper they point to). */
const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

/** Files outside `homes` whose code matches `pattern`. */
async function elsewhere(pattern: RegExp, ...homes: string[]): Promise<string[]> {
  return (await sources()).filter(({ path, text }) => !homes.includes(path) && pattern.test(code(text))).map(({ path }) => path);
}

describe('one home per concern', () => {
  it('one sleep and one deadline helper: nothing else sleeps through node:timers/promises or defines its own', async () => {
    expect(await elsewhere(/from 'node:timers\/promises'|\bfunction (sleep|withTimeout|withDeadline)\b|\bconst (sleep|withTimeout)\s*=|new Promise\S*\s*=>\s*setTimeout\(resolve,/, 'src/core/deadline.ts')).toEqual([]);
  });

  it('one backoff: delays are computed only by core/backoff.ts', async () => {
    expect(await elsewhere(/\bfunction \w*[bB]ackoff\w*\s*\(|\bclass \w*Backoff\b|Math\.random\b/, 'src/core/backoff.ts')).toEqual([]);
  });

  it('one part-id rule, one migrator, topic names from publish/topics.ts', async () => {
    expect(await elsewhere(/PART_ID_PATTERN\s*=/, 'src/core/frame.ts')).toEqual([]);
    expect(await elsewhere(/user_version\s*=/, 'src/sqlite/adapters/migrate.ts')).toEqual([]);
    expect(await elsewhere(/['`/]command\/(request|response)['`]|['`]\/trigger['`]/, 'src/publish/topics.ts')).toEqual([]);
  });

  it('one rule for file names made from ids: core/safe-name.ts', async () => {
    expect(await elsewhere(/\[\^A-Za-z0-9_.-\]|\bfunction safe\w*(Stem|Name)\b/, 'src/core/safe-name.ts')).toEqual([]);
  });
});
