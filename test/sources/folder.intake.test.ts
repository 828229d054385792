import { mkdir, mkdtemp, readdir, rm, symlink, writeFile, open, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/core/frame.js';
import { cameraSchema } from '../../src/config/slices/sources.js';
import { canMarkFailed, createFrameSource } from '../../src/sources/create-frame-source.js';
import type { FrameSource } from '../../src/sources/frame-source.js';
import { makeJpeg } from '../helpers/images.js';
import { memoryLogger, waitFor } from './kit.js';

let jpeg: Buffer;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  jpeg = await makeJpeg({ width: 128, height: 96 });
});

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-folder-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function folderSource(
  dir: string,
  onFrame: (f: Frame) => void | Promise<unknown>,
  opts: { freeRunning?: boolean; maxInputBytes?: number; source?: Record<string, unknown>; lookahead?: number } = {},
): FrameSource {
  const { log } = memoryLogger('silent');
  const cam = cameraSchema.parse({
    id: 'plc1',
    source: { type: 'folder', path: dir, settleMs: 100, ...opts.source },
    backoff: { initialMs: 50, maxMs: 200 },
    preprocess: opts.maxInputBytes !== undefined ? { maxInputBytes: opts.maxInputBytes } : {},
  });
  const source = createFrameSource(cam, { onFrame, freeRunning: opts.freeRunning ?? true, log, ...(opts.lookahead ? { lookahead: opts.lookahead } : {}) });
  cleanups.push(() => source.stop());
  return source;
}

const list = async (dir: string): Promise<string[]> => (await readdir(dir).catch(() => [])).sort();

describe('folder source', () => {
  it('processes files present at start, oldest first, and moves each to processed/', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'b.jpg'), jpeg);
    await writeFile(join(dir, 'a.jpg'), jpeg);
    const past = new Date(Date.now() - 60_000);
    await utimes(join(dir, 'b.jpg'), past, past); // b is older
    await writeFile(join(dir, 'notes.txt'), 'not an image');
    const frames: Frame[] = [];
    const source = folderSource(dir, (f) => void frames.push(f));
    await source.start();
    await waitFor(() => frames.length === 2, 'two frames');
    expect(frames.map((f) => f.origin)).toEqual(['b.jpg', 'a.jpg']);
    expect(frames[0]?.data).toMatchObject({ kind: 'encoded' });
    await waitFor(async () => (await list(join(dir, 'processed'))).length === 2, 'moved');
    expect(await list(dir)).toEqual(['.lookout-moving', 'notes.txt', 'processed']);
    expect(await list(join(dir, '.lookout-moving', 'processed'))).toEqual([]); // staging is left empty
  });

  it('waits until a file stops growing before reading it (partial writes)', async () => {
    const dir = await tempDir();
    const frames: Frame[] = [];
    const source = folderSource(dir, (f) => void frames.push(f));
    await source.start();
    const handle = await open(join(dir, 'slow.jpg'), 'w');
    const started = Date.now();
    // a slow writer: a few bytes every 40 ms (each pause well below settleMs) for longer than settleMs
    const step = Math.ceil(jpeg.length / 15);
    for (let off = 0; off < jpeg.length; off += step) {
      expect(frames).toHaveLength(0);
      await handle.write(jpeg, off, Math.min(step, jpeg.length - off));
      await new Promise((r) => setTimeout(r, 40));
    }
    expect(Date.now() - started).toBeGreaterThan(300);
    expect(frames).toHaveLength(0);
    await handle.close();
    const frame = await waitFor(() => frames[0], 'the whole file');
    expect(frame.data.kind === 'encoded' && frame.data.bytes.equals(jpeg)).toBe(true);
  });

  it('does not trust an old mtime: a copy that preserves timestamps (cp -p, rsync) is still awaited', async () => {
    const dir = await tempDir();
    const frames: Frame[] = [];
    const source = folderSource(dir, (f) => void frames.push(f), { source: { settleMs: 400 } }); // scans every 200 ms
    await source.start();
    const path = join(dir, 'copied.jpg');
    const old = new Date(Date.now() - 3_600_000);
    const step = Math.ceil(jpeg.length / 4);
    for (let off = 0; off < jpeg.length; off += step) {
      expect(frames).toHaveLength(0);
      await writeFile(path, jpeg.subarray(0, Math.min(jpeg.length, off + step)));
      await utimes(path, old, old);
      await new Promise((r) => setTimeout(r, 250)); // longer than a scan, shorter than settleMs
    }
    const frame = await waitFor(() => frames[0], 'the complete copy');
    expect(frame.data.kind === 'encoded' && frame.data.bytes.equals(jpeg)).toBe(true);
  });

  it('makes processed/ and its staging folder again when they are removed while it runs', async () => {
    const dir = await tempDir();
    const frames: Frame[] = [];
    const source = folderSource(dir, (f) => void frames.push(f));
    await source.start();
    await writeFile(join(dir, 'a.jpg'), jpeg);
    await waitFor(async () => (await list(join(dir, 'processed'))).includes('a.jpg'), 'a.jpg in processed/');
    // an operator clears the output (and our staging folder with it) between two parts
    await rm(join(dir, 'processed'), { recursive: true });
    await rm(join(dir, '.lookout-moving'), { recursive: true });
    await writeFile(join(dir, 'b.jpg'), jpeg);
    await waitFor(async () => (await list(join(dir, 'processed'))).includes('b.jpg'), 'b.jpg in a new processed/');
    expect(frames.map((f) => f.origin)).toEqual(['a.jpg', 'b.jpg']);
    expect(await list(dir)).toEqual(['.lookout-moving', 'processed']);
  });

  it('never overwrites: a second file with the same name gets a suffix in processed/', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'processed'));
    await writeFile(join(dir, 'processed', 'part.jpg'), 'earlier');
    await writeFile(join(dir, 'part.jpg'), jpeg);
    const frames: Frame[] = [];
    const source = folderSource(dir, (f) => void frames.push(f));
    await source.start();
    await waitFor(async () => (await list(join(dir, 'processed'))).length === 2, 'first moved');
    await writeFile(join(dir, 'part.jpg'), jpeg);
    await waitFor(() => frames.length === 2, 'second frame');
    await waitFor(async () => (await list(join(dir, 'processed'))).length === 3, 'three in processed');
    expect(await list(join(dir, 'processed'))).toEqual(['part-1.jpg', 'part-2.jpg', 'part.jpg']);
  });

  it('moves path escapes and oversize files to failed/ and counts them as dropped', async () => {
    const dir = await tempDir();
    const outside = await tempDir();
    await writeFile(join(outside, 'secret.jpg'), jpeg);
    await symlink(join(outside, 'secret.jpg'), join(dir, 'escape.jpg'));
    await symlink('/nonexistent/x.jpg', join(dir, 'dangling.jpg'));
    await writeFile(join(dir, 'big.jpg'), Buffer.alloc(5_000, 1));
    await writeFile(join(dir, 'inside.jpg'), jpeg);
    await symlink(join(dir, 'inside.jpg'), join(dir, 'alias.jpg')); // stays inside: allowed
    await writeFile(join(dir, '..sneaky.jpg'), jpeg); // '..' in the name: ignored
    const frames: Frame[] = [];
    const source = folderSource(dir, (f) => void frames.push(f), { maxInputBytes: 4_000 });
    await source.start();
    await waitFor(async () => (await list(join(dir, 'failed'))).length === 3, 'three failed');
    expect(await list(join(dir, 'failed'))).toEqual(['big.jpg', 'dangling.jpg', 'escape.jpg']);
    await waitFor(() => frames.length >= 1, 'the good file');
    expect(frames.some((f) => f.origin === 'escape.jpg')).toBe(false);
    expect(source.health().framesDropped).toBe(3);
    expect(await list(outside)).toEqual(['secret.jpg']); // the target was never touched
    expect(await list(dir)).toContain('..sneaky.jpg');
  });

  it('awaits the pipeline: a rejected frame goes to failed/, markFailed moves a processed one', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.jpg'), jpeg);
    const frames: Frame[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const source = folderSource(dir, async (f) => {
      frames.push(f);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight -= 1;
      if (f.origin === 'bad.jpg') throw new Error('preprocessing failed');
    });
    await source.start();
    await waitFor(async () => (await list(join(dir, 'failed'))).includes('bad.jpg'), 'bad in failed/');
    for (const n of ['c1.jpg', 'c2.jpg', 'c3.jpg']) await writeFile(join(dir, n), jpeg);
    await waitFor(async () => (await list(join(dir, 'processed'))).length === 3, 'three processed');
    expect(maxInFlight).toBe(1); // lossless, one at a time
    expect(canMarkFailed(source)).toBe(true);
    if (!canMarkFailed(source)) return;
    const c2 = frames.find((f) => f.origin === 'c2.jpg');
    expect(await source.markFailed(c2?.id ?? '')).toBe(true);
    expect(await list(join(dir, 'failed'))).toEqual(['bad.jpg', 'c2.jpg']);
    expect(await source.markFailed('unknown')).toBe(false);
  });

  it('with a lookahead, hands over the next files before the first is settled, and moves them in reading order whatever order they settle in', async () => {
    const dir = await tempDir();
    const past = Date.now() - 60_000;
    for (const [i, n] of ['f1.jpg', 'f2.jpg', 'f3.jpg', 'f4.jpg'].entries()) {
      await writeFile(join(dir, n), jpeg);
      await utimes(join(dir, n), new Date(past + i * 1000), new Date(past + i * 1000));
    }
    const pending = new Map<string, { resolve: () => void; reject: (err: Error) => void }>();
    const source = folderSource(
      dir,
      (f) => new Promise<void>((resolve, reject) => pending.set(f.origin ?? '', { resolve, reject })),
      { lookahead: 3 },
    );
    await source.start();
    await waitFor(() => pending.size === 3, 'three files handed over at once');
    expect([...pending.keys()]).toEqual(['f1.jpg', 'f2.jpg', 'f3.jpg']); // f4 waits for room
    pending.get('f3.jpg')?.resolve();
    pending.get('f2.jpg')?.reject(new Error('bad frame'));
    await new Promise((r) => setTimeout(r, 200));
    expect(await list(join(dir, 'processed'))).toEqual([]); // f1 is not settled: nothing after it moves
    expect(await list(join(dir, 'failed'))).toEqual([]);
    pending.get('f1.jpg')?.resolve();
    await waitFor(async () => (await list(join(dir, 'processed'))).length === 2, 'f1 and f3 moved');
    expect(await list(join(dir, 'processed'))).toEqual(['f1.jpg', 'f3.jpg']);
    expect(await list(join(dir, 'failed'))).toEqual(['f2.jpg']);
    await waitFor(() => pending.has('f4.jpg'), 'f4 handed over once there is room');
    pending.get('f4.jpg')?.resolve();
    await waitFor(async () => (await list(join(dir, 'processed'))).length === 3, 'f4 moved');
  });

  it('keeps finding files when the folder is missing at start (backs off) and created later', async () => {
    const parent = await tempDir();
    const dir = join(parent, 'inbox');
    const frames: Frame[] = [];
    const source = folderSource(dir, (f) => void frames.push(f));
    await source.start();
    await waitFor(() => source.health().state === 'backing-off', 'backing off');
    await mkdir(dir);
    await writeFile(join(dir, 'x.png'), jpeg);
    await waitFor(() => frames.length === 1, 'frame after the folder appears');
  });

  it('trigger mode: capture() returns the oldest settled file with the part id; nothing free-runs', async () => {
    const dir = await tempDir();
    const frames: Frame[] = [];
    const source = folderSource(dir, (f) => void frames.push(f), { freeRunning: false });
    await source.start();
    expect(source.health().state).toBe('streaming');
    const capture = source.capture('part-1234'); // the PLC triggers while the file is still being dropped
    await writeFile(join(dir, 'one.jpg'), jpeg);
    const frame = await capture;
    expect(frame.partId).toBe('part-1234');
    expect(frame.origin).toBe('one.jpg');
    expect(frames).toHaveLength(0);
    expect(await list(join(dir, 'processed'))).toEqual(['one.jpg']);
  });
});

describe('folder replay (the demo camera)', () => {
  it('loops over the images forever without moving them', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '1.jpg'), jpeg);
    await writeFile(join(dir, '2.jpg'), jpeg);
    const frames: Frame[] = [];
    const source = folderSource(dir, (f) => void frames.push(f), { source: { replay: true, intervalMs: 20 } });
    await source.start();
    await waitFor(() => frames.length >= 5, 'five frames');
    expect(frames.slice(0, 5).map((f) => f.origin)).toEqual(['1.jpg', '2.jpg', '1.jpg', '2.jpg', '1.jpg']);
    expect(await list(dir)).toEqual(['1.jpg', '2.jpg']);
  });

  it('backs off on an empty folder', async () => {
    const dir = await tempDir();
    const source = folderSource(dir, () => undefined, { source: { replay: true, intervalMs: 20 } });
    await source.start();
    await waitFor(() => source.health().state === 'backing-off', 'backing off');
    expect(source.health().lastError?.message).toMatch(/no images to replay/);
  });
});
