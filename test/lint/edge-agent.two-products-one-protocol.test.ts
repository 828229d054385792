import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Two products, one protocol (issue 18, item 4): the inspector's Edge Agent client (src/inference/) and the
 * model server (src/model-server/, with its training) share only src/edge-agent/ (proto loading, wire types,
 * shared-memory naming), which depends on neither.
 */
const root = new URL('../../', import.meta.url).pathname;

async function sources(dir: string): Promise<Array<{ path: string; text: string }>> {
  const names = (await readdir(join(root, dir), { recursive: true })).map(String).filter((n) => n.endsWith('.ts'));
  return Promise.all(names.map(async (n) => ({ path: join(dir, n), text: await readFile(join(root, dir, n), 'utf8') })));
}

/** Every relative module a file names (import, export … from, import(), typeof import()), as a path from the root. */
function imported(path: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1] as string);
  return specs.map((spec) => relative(root, normalize(join(root, dirname(path), spec))));
}

async function crossings(from: string, into: readonly string[]): Promise<string[]> {
  return (await sources(from)).flatMap(({ path, text }) =>
    imported(path, text)
      .filter((target) => into.some((area) => target.startsWith(`${area}/`)))
      .map((target) => `${path} → ${target}`),
  );
}

describe('edge agent: two products, one protocol', () => {
  it('the model server (and its training) imports nothing from the inspector\'s client', async () => {
    expect(await crossings('src/model-server', ['src/inference'])).toEqual([]);
  });

  it('the client imports nothing from the model server', async () => {
    expect(await crossings('src/inference', ['src/model-server'])).toEqual([]);
  });

  it('what they share depends on neither', async () => {
    expect(await crossings('src/edge-agent', ['src/inference', 'src/model-server'])).toEqual([]);
  });

  it('both reach the protocol through src/edge-agent/', async () => {
    expect(await crossings('src/inference', ['src/edge-agent'])).not.toEqual([]);
    expect(await crossings('src/model-server', ['src/edge-agent'])).not.toEqual([]);
  });
});
