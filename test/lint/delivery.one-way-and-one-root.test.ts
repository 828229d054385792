import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Delivery's shape (issue 18, item 2): publish/ depends on outbox/, never the other way; and only the
 * composition root (main.ts) builds delivery's adapters, which reach the stages through their ports.
 */
const root = new URL('../../', import.meta.url).pathname;

async function sources(dir: string): Promise<Array<{ path: string; text: string }>> {
  const names = (await readdir(join(root, dir), { recursive: true })).map(String).filter((n) => n.endsWith('.ts'));
  return Promise.all(names.map(async (n) => ({ path: relative(root, join(root, dir, n)), text: await readFile(join(root, dir, n), 'utf8') })));
}

const imports = (text: string): string[] => [...text.matchAll(/^import [^;]*? from '([^']+)';/gms)].map((m) => m[1] as string);

describe('delivery: one home, one composition root', () => {
  it('outbox/ imports nothing from publish/', async () => {
    const offending = (await sources('src/outbox')).flatMap(({ path, text }) => imports(text).filter((i) => i.includes('/publish/')).map((i) => `${path} → ${i}`));
    expect(offending).toEqual([]);
  });

  it('publish/ stages name no concrete adapter: the outbox, the MQTT client and the nucleus connection come in through ports', async () => {
    const stages = (await sources('src/publish')).filter(({ path }) => !path.includes('/adapters/') && !path.endsWith('create-transports.ts'));
    const offending = stages.flatMap(({ path, text }) => imports(text).filter((i) => i.includes('/adapters/')).map((i) => `${path} → ${i}`));
    expect(offending).toEqual([]);
  });
});
