import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, open, readdir, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/core/frame.js';
import { cameraSchema } from '../../src/config/slices/sources.js';
import { createFrameSource } from '../../src/sources/create-frame-source.js';
import type { FrameSource } from '../../src/sources/frame-source.js';
import { readRegularFile } from '../../src/sources/folder/safe-files.js';
import { makeJpeg } from '../helpers/images.js';
import { memoryLogger, waitFor } from './kit.js';

let jpeg: Buffer;
const cleanups: (() => Promise<unknown> | void)[] = [];

beforeAll(async () => {
  jpeg = await makeJpeg({ width: 64, height: 48 });
});

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-hostile-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const mkfifo = (path: string): void => void execFileSync('mkfifo', [path]);
const list = async (dir: string): Promise<string[]> => (await readdir(dir).catch(() => [])).filter((n) => !n.startsWith('.')).sort();

function folderSource(dir: string, onFrame: (f: Frame) => void, stallTimeoutMs = 10_000): FrameSource {
  const { log } = memoryLogger('silent');
  const cam = cameraSchema.parse({
    id: 'cam1',
    source: { type: 'folder', path: dir, settleMs: 50, stallTimeoutMs },
    backoff: { initialMs: 50, maxMs: 100 },
  });
  const source = createFrameSource(cam, { onFrame, freeRunning: true, log });
  cleanups.push(() => source.stop());
  return source;
}

describe('folder source against hostile files', () => {
  it('never blocks on a FIFO renamed over a file it is about to read (the swap races the check, 300 times)', async () => {
    const dir = await tempDir();
    const outcomes = { read: 0, refused: 0, gone: 0 };
    for (let i = 0; i < 300; i += 1) {
      await writeFile(join(dir, 'part.jpg'), jpeg);
      mkfifo(join(dir, 'trap'));
      // the outcome is taken at once: the read may end (refused) while the swap below is still awaited
      const reading = readRegularFile(dir, 'part.jpg', 1 << 20).then(
        ({ bytes }) => (bytes.equals(jpeg) ? 'read' : 'wrong bytes'),
        (err: { code?: string }) => (err.code === 'PATH_ESCAPE' ? 'refused' : err.code === 'ENOENT' ? 'gone' : `error ${err.code}`),
      );
      // land the swap at a different point of the read each time
      for (let k = 0; k < i % 5; k += 1) await new Promise((r) => setImmediate(r));
      await rename(join(dir, 'trap'), join(dir, 'part.jpg'));
      const settled = await Promise.race([reading, new Promise<string>((r) => setTimeout(() => r('blocked'), 2_000))]);
      if (settled === 'blocked') {
        closeSync(openSync(join(dir, 'part.jpg'), constants.O_WRONLY | constants.O_NONBLOCK)); // let the stuck open go
      }
      expect(settled).toMatch(/^(read|refused|gone)$/);
      outcomes[settled as keyof typeof outcomes] += 1;
      await rm(join(dir, 'part.jpg'));
    }
    console.log(`FIFO swap: ${outcomes.read} read before the swap, ${outcomes.refused} refused, ${outcomes.gone} gone; 0 blocked`);
  });

  it('reports a stall when its file-system calls hang, stops promptly, and recovers when they return', async () => {
    const dir = await tempDir();
    const frames: Frame[] = [];
    const source = folderSource(dir, (f) => void frames.push(f), 300);
    await source.start();
    await writeFile(join(dir, 'a.jpg'), jpeg);
    await waitFor(() => frames.length === 1, 'the first frame');
    expect(source.health().state).toBe('streaming');

    // Wedge libuv's worker threads (UV_THREADPOOL_SIZE, default 4) the way a hung mount or a
    // FIFO opened for reading does: every file-system call of the source now waits.
    const pool = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const fifos = await Promise.all(
      Array.from({ length: pool }, async (_, i) => {
        const path = join(dir, `.wedge-${i}`);
        mkfifo(path);
        return path;
      }),
    );
    const stuck = fifos.map((path) => open(path, 'r'));
    const release = (): void => {
      for (const path of fifos) closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
    };
    cleanups.push(release);
    await waitFor(() => source.health().state === 'stalled', 'the stalled state', 5_000);
    expect(source.health().lastError?.code).toBe('SOURCE_STALLED');

    release();
    cleanups.pop();
    for (const handle of await Promise.all(stuck)) await handle.close();
    await writeFile(join(dir, 'b.jpg'), jpeg);
    await waitFor(() => frames.length === 2, 'a frame after the file system came back', 10_000);
    expect(source.health().state).toBe('streaming');
    // the move follows the hand-over of the frame
    await waitFor(async () => (await list(join(dir, 'processed'))).length === 2, 'b.jpg in processed/');
    expect(await list(join(dir, 'processed'))).toEqual(['a.jpg', 'b.jpg']);
  });

  it('stop() returns within a second while a file-system call hangs', async () => {
    const dir = await tempDir();
    const source = folderSource(dir, () => undefined, 60_000);
    await source.start();
    await waitFor(() => source.health().state === 'streaming', 'streaming');
    const pool = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const fifos = Array.from({ length: pool }, (_, i) => join(dir, `.wedge-${i}`));
    fifos.forEach(mkfifo);
    const stuck = fifos.map((path) => open(path, 'r'));
    try {
      await new Promise((r) => setTimeout(r, 200)); // the next scan is now waiting for a worker thread
      const started = Date.now();
      await source.stop();
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      for (const path of fifos) closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
      for (const handle of await Promise.all(stuck)) await handle.close();
    }
  });

  it('a file rewritten in place while it was inspected is read again, not moved to processed/ unread', async () => {
    const dir = await tempDir();
    const second = await makeJpeg({ width: 80, height: 60 });
    const frames: Frame[] = [];
    let release!: () => void;
    const inspected = new Promise<void>((r) => (release = r));
    const source = folderSource(dir, (f) => {
      frames.push(f);
      return frames.length === 1 ? inspected : undefined; // the first frame is "being inspected" until released
    });
    await source.start();
    await writeFile(join(dir, 'image.jpg'), jpeg);
    await waitFor(() => frames.length === 1, 'the first frame');
    // a PLC PC writing its next image in place, under the same name, into the same inode
    const handle = await open(join(dir, 'image.jpg'), 'r+');
    await handle.truncate(0);
    await handle.write(second, 0, second.length, 0);
    await handle.close();
    release();
    const frame = await waitFor(() => frames[1], 'the rewritten image read as a second frame');
    expect(frame.data.kind === 'encoded' && frame.data.bytes.equals(second)).toBe(true);
    await waitFor(async () => (await list(join(dir, 'processed'))).length === 1, 'one file in processed/');
  });

  it('finishes a move an earlier run was killed in the middle of', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, '.lookout-moving', 'processed'), { recursive: true });
    await writeFile(join(dir, '.lookout-moving', 'processed', 'handled.jpg'), jpeg);
    const frames: Frame[] = [];
    const source = folderSource(dir, (f) => void frames.push(f));
    await source.start();
    await waitFor(async () => (await list(join(dir, 'processed'))).includes('handled.jpg'), 'the staged file in processed/');
    expect(frames).toHaveLength(0); // it had been handled: not read again
  });
});
