import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/core/frame.js';
import { cameraSchema } from '../../src/config/slices/sources.js';
import { createFrameSource } from '../../src/sources/create-frame-source.js';
import { makeJpeg } from '../helpers/images.js';
import { memoryLogger, waitFor } from './kit.js';

/** Issue 17, item 12: a file name is either read or refused with a log line, never skipped silently forever. */

let jpeg: Buffer;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  jpeg = await makeJpeg({ width: 128, height: 96 });
});

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const list = async (dir: string): Promise<string[]> => (await readdir(dir).catch(() => [])).sort();

async function startFolder(): Promise<{ dir: string; frames: Frame[]; lines: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-folder-names-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const { log, lines } = memoryLogger('info');
  const cam = cameraSchema.parse({ id: 'plc1', source: { type: 'folder', path: dir, settleMs: 100 }, backoff: { initialMs: 50, maxMs: 200 } });
  const frames: Frame[] = [];
  const source = createFrameSource(cam, { onFrame: (f) => void frames.push(f), freeRunning: true, log });
  cleanups.push(() => source.stop());
  await source.start();
  return { dir, frames, lines };
}

describe('folder source: odd file names', () => {
  it('reads names that merely contain ".." (a readdir entry cannot leave its folder)', async () => {
    const { dir, frames } = await startFolder();
    await writeFile(join(dir, 'lot..7.jpg'), jpeg);
    await writeFile(join(dir, '...jpg'), jpeg);
    await waitFor(() => frames.length === 1, 'the frame of lot..7.jpg');
    expect(frames[0]?.origin).toBe('lot..7.jpg');
    await waitFor(async () => (await list(join(dir, 'processed'))).includes('lot..7.jpg'), 'moved to processed/');
  });

  it('refuses a name it will not read with one log line and moves it to failed/', async () => {
    const { dir, lines } = await startFolder();
    await writeFile(join(dir, 'bad\\name.jpg'), jpeg);
    await waitFor(async () => (await list(join(dir, 'failed'))).includes('bad\\name.jpg'), 'moved to failed/');
    await new Promise((r) => setTimeout(r, 300)); // a few more scans: still one line
    expect(lines.filter((l) => l.includes('bad\\\\name.jpg') && l.includes('PATH_ESCAPE'))).toHaveLength(1);
  });

  it('leaves hidden files (a writer\'s temporary name) alone without a line: they are renamed when complete', async () => {
    const { dir, frames, lines } = await startFolder();
    await writeFile(join(dir, '.part.jpg'), jpeg);
    await writeFile(join(dir, 'done.jpg'), jpeg);
    await waitFor(() => frames.length === 1, 'the frame of done.jpg');
    expect(await list(dir)).toContain('.part.jpg');
    expect(lines.filter((l) => l.includes('.part.jpg'))).toEqual([]);
  });
});
