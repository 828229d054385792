import { execFileSync } from 'node:child_process';
import { chown, link, mkdtemp, readFile, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { grpc, image, rawClient, removeDir, startServer, statusOf, waitFor, type RawClient, type TestServer } from '../peers/edge-agent-peer.js';

/** Shared-memory input and mask output on the server, with hostile handles. Segments are real /dev/shm files. */

const S = grpc.status;
const W = 64;
const H = 64;
const LEN = W * H * 3;
let agent: TestServer;
let c: RawClient;
const made: string[] = [];
let n = 0;

async function segment(bytes: Uint8Array | number): Promise<{ name: string; path: string }> {
  const base = `le-test-${process.pid}-${n++}`;
  const path = `/dev/shm/${base}`;
  await writeFile(path, typeof bytes === 'number' ? new Uint8Array(bytes) : bytes, { mode: 0o600 });
  made.push(path);
  return { name: `/${base}`, path };
}

beforeAll(async () => {
  agent = await startServer([
    { component: 'segment', script: { segment: true }, manifest: { classes: [{ name: 'dent', hexColor: '#FF0080' }] } },
    { component: 'classify' },
  ]);
  c = rawClient(agent.address, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  await waitFor(async () => (await c.call<{ models: { status: number }[] }>('ListModels', {})).models.every((m) => m.status === 2));
});

afterEach(async () => {
  await Promise.all(made.splice(0).map((p) => unlink(p).catch(() => undefined)));
});

afterAll(async () => {
  c.close();
  await agent.stop();
  await removeDir(agent.dir);
});

const detectShm = (component: string, handle: object, mask?: object) =>
  c.call<{ detect_anomaly_result: Record<string, unknown> }>('DetectAnomalies', {
    model_component: component,
    bitmap: { width: W, height: H, shared_memory_handle: handle },
    ...(mask ? { anomaly_mask_params: mask } : {}),
  });

describe('shared-memory input', () => {
  it('reads the bitmap at the given offset', async () => {
    const bytes = new Uint8Array(100 + LEN);
    bytes.fill(230, 100); // score 230/255 → anomalous
    const { name } = await segment(bytes);
    const r = (await detectShm('classify', { name, size: LEN, offset: 100 })).detect_anomaly_result;
    expect(r.is_anomalous).toBe(true);
    expect(r.anomaly_score).toBeCloseTo(230 / 255, 5);
  });

  it('accepts the name without the leading slash too', async () => {
    const { name } = await segment(LEN);
    expect((await detectShm('classify', { name: name.slice(1), size: LEN, offset: 0 })).detect_anomaly_result.is_anomalous).toBe(false);
  });

  it.each([
    ['path traversal', '../etc/passwd'],
    ['absolute path traversal', '/../../etc/passwd'],
    ['a sub-directory', '/a/b'],
    ['dots only', '/..'],
    ['empty', ''],
    ['a NUL byte', '/x\u0000y'],
  ])('rejects %s in the name as INVALID_ARGUMENT', async (_what, name) => {
    expect(await statusOf(detectShm('classify', { name, size: LEN, offset: 0 }))).toBe(S.INVALID_ARGUMENT);
  });

  it('rejects a missing segment, a size other than w*h*3 and offset+size beyond the file as INVALID_ARGUMENT', async () => {
    expect(await statusOf(detectShm('classify', { name: `/le-missing-${process.pid}`, size: LEN, offset: 0 }))).toBe(S.INVALID_ARGUMENT);
    const { name } = await segment(LEN);
    expect(await statusOf(detectShm('classify', { name, size: LEN - 3, offset: 0 }))).toBe(S.INVALID_ARGUMENT);
    expect(await statusOf(detectShm('classify', { name, size: LEN, offset: 1 }))).toBe(S.INVALID_ARGUMENT);
    expect(await statusOf(detectShm('classify', { name, size: LEN, offset: 2 ** 40 }))).toBe(S.INVALID_ARGUMENT);
  });

  it('refuses a FIFO planted under the name without blocking', async () => {
    const base = `le-test-fifo-${process.pid}`;
    execFileSync('mkfifo', [`/dev/shm/${base}`]);
    made.push(`/dev/shm/${base}`);
    expect(await statusOf(detectShm('classify', { name: `/${base}`, size: LEN, offset: 0 }))).toBe(S.INVALID_ARGUMENT);
    expect((await detectShm('classify', { name: (await segment(LEN)).name, size: LEN, offset: 0 })).detect_anomaly_result.is_anomalous).toBe(false);
  });

  it('does not follow a symlink planted in /dev/shm', async () => {
    const base = `le-test-link-${process.pid}`;
    await symlink('/etc/hostname', `/dev/shm/${base}`);
    made.push(`/dev/shm/${base}`);
    expect(await statusOf(detectShm('classify', { name: `/${base}`, size: LEN, offset: 0 }))).toBe(S.INVALID_ARGUMENT);
  });
});

describe('mask into shared memory', () => {
  it.each([
    ['field 2 (shared_memory_handle)', 'shared_memory_handle'],
    ['field 3 (the 2021 sample numbering)', 'legacy_shared_memory_handle'],
  ])('writes the mask into the segment given under %s', async (_what, field) => {
    const input = await segment(image(W, H, 255).pixels);
    const out = await segment(8192 + LEN);
    const r = (await detectShm('segment', { name: input.name, size: LEN, offset: 0 }, { [field]: { name: out.name, size: LEN, offset: 8192 } }))
      .detect_anomaly_result as { anomaly_mask: { width: number; height: number; byte_data?: Buffer; shared_memory_handle: { name: string; offset: number; size: number } } };
    expect(r.anomaly_mask.byte_data).toBeUndefined();
    expect(r.anomaly_mask.shared_memory_handle).toEqual({ name: out.name, offset: 8192, size: LEN });
    expect([r.anomaly_mask.width, r.anomaly_mask.height]).toEqual([W, H]);
    const mask = (await readFile(out.path)).subarray(8192);
    expect([...mask.subarray(0, 3)]).toEqual([0xff, 0x00, 0x80]);
    expect([...mask.subarray((W - 1) * 3, W * 3)]).toEqual([0, 0, 0]);
  });

  it('works with inline input and a shm mask in the same segment after the input', async () => {
    const out = await segment(2 * LEN);
    const r = await c.call<{ detect_anomaly_result: { anomaly_mask: { shared_memory_handle: unknown } } }>('DetectAnomalies', {
      model_component: 'segment',
      bitmap: { width: W, height: H, byte_data: image(W, H, 255).pixels },
      anomaly_mask_params: { shared_memory_handle: { name: out.name, size: LEN, offset: LEN } },
    });
    expect(r.detect_anomaly_result.anomaly_mask.shared_memory_handle).toEqual({ name: out.name, size: LEN, offset: LEN });
    expect([...(await readFile(out.path)).subarray(LEN, LEN + 3)]).toEqual([0xff, 0x00, 0x80]);
  });

  it('rejects a mask handle that is too small, beyond the file, or hostile, before running the model', async () => {
    const input = await segment(LEN);
    const out = await segment(LEN);
    const h = { name: input.name, size: LEN, offset: 0 };
    expect(await statusOf(detectShm('segment', h, { shared_memory_handle: { name: out.name, size: LEN - 1, offset: 0 } }))).toBe(S.INVALID_ARGUMENT);
    expect(await statusOf(detectShm('segment', h, { shared_memory_handle: { name: out.name, size: LEN, offset: 3 } }))).toBe(S.INVALID_ARGUMENT);
    expect(await statusOf(detectShm('segment', h, { shared_memory_handle: { name: '../../tmp/x', size: LEN, offset: 0 } }))).toBe(S.INVALID_ARGUMENT);
    expect(await statusOf(detectShm('segment', h, { legacy_shared_memory_handle: { name: '/le-nope', size: LEN, offset: 0 } }))).toBe(S.INVALID_ARGUMENT);
  });

  it('a classification model asked for a shm mask returns no mask and leaves the segment alone', async () => {
    const input = await segment(LEN);
    const out = await segment(new Uint8Array(LEN).fill(7));
    const r = await detectShm('classify', { name: input.name, size: LEN, offset: 0 }, { shared_memory_handle: { name: out.name, size: LEN, offset: 0 } });
    expect(r.detect_anomaly_result.anomaly_mask).toBeNull();
    expect((await readFile(out.path)).every((b) => b === 7)).toBe(true);
    // It never opens the mask segment at all: one that does not exist is no error (a hostile name still is).
    const h = { name: input.name, size: LEN, offset: 0 };
    const gone = await detectShm('classify', h, { shared_memory_handle: { name: '/le-nope', size: LEN, offset: 0 } });
    expect(gone.detect_anomaly_result.anomaly_mask).toBeNull();
    expect(await statusOf(detectShm('classify', h, { shared_memory_handle: { name: '../../tmp/x', size: LEN, offset: 0 } }))).toBe(S.INVALID_ARGUMENT);
  });
});

describe('whose segments', () => {
  // We run as root here, so another user's segment is one of ours chowned to nobody (65534).
  const NOBODY = 65534;

  it('refuses a mask segment owned by another user and leaves its bytes alone (another program\'s segment)', async () => {
    const input = await segment(image(W, H, 255).pixels);
    const theirs = await segment(new Uint8Array(LEN).fill(9));
    await chown(theirs.path, NOBODY, NOBODY);
    const call = detectShm('segment', { name: input.name, size: LEN, offset: 0 }, { shared_memory_handle: { name: theirs.name, size: LEN, offset: 0 } });
    await expect(call).rejects.toMatchObject({ code: S.INVALID_ARGUMENT, details: expect.stringMatching(/belongs to uid 65534.*modelServer\.shmOwners/) });
    expect((await readFile(theirs.path)).every((b) => b === 9)).toBe(true);
  });

  it('refuses to read an input segment owned by another user', async () => {
    const theirs = await segment(LEN);
    await chown(theirs.path, NOBODY, NOBODY);
    expect(await statusOf(detectShm('classify', { name: theirs.name, size: LEN, offset: 0 }))).toBe(S.INVALID_ARGUMENT);
  });

  it('refuses a segment with a second link (a hard link to another program\'s file) and leaves it alone', async () => {
    const input = await segment(image(W, H, 255).pixels);
    const original = await segment(new Uint8Array(LEN).fill(5));
    const alias = `/dev/shm/le-test-hardlink-${process.pid}`;
    await link(original.path, alias);
    made.push(alias);
    const call = detectShm('segment', { name: input.name, size: LEN, offset: 0 }, { shared_memory_handle: { name: alias.slice('/dev/shm'.length), size: LEN, offset: 0 } });
    await expect(call).rejects.toMatchObject({ code: S.INVALID_ARGUMENT, details: expect.stringMatching(/2 links/) });
    expect((await readFile(original.path)).every((b) => b === 5)).toBe(true);
  });

  it('uses segments of a user listed in modelServer.shmOwners (by name, through /etc/passwd)', async () => {
    const other = await startServer([{ component: 'segment', script: { segment: true }, manifest: { classes: [{ name: 'dent', hexColor: '#FF0080' }] } }], {
      config: { shmOwners: ['nobody'] },
    });
    const oc = rawClient(other.address, { keepCase: true, longs: Number, defaults: true, oneofs: true });
    try {
      await waitFor(async () => (await oc.call<{ models: { status: number }[] }>('ListModels', {})).models.every((m) => m.status === 2));
      const input = await segment(image(W, H, 255).pixels);
      const theirs = await segment(LEN);
      await chown(input.path, NOBODY, NOBODY);
      await chown(theirs.path, NOBODY, NOBODY);
      await oc.call('DetectAnomalies', {
        model_component: 'segment',
        bitmap: { width: W, height: H, shared_memory_handle: { name: input.name, size: LEN, offset: 0 } },
        anomaly_mask_params: { shared_memory_handle: { name: theirs.name, size: LEN, offset: 0 } },
      });
      expect([...(await readFile(theirs.path)).subarray(0, 3)]).toEqual([0xff, 0x00, 0x80]);
    } finally {
      oc.close();
      await other.stop();
      await removeDir(other.dir);
    }
  });

  it('does not start with an unknown user in modelServer.shmOwners', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'le-shm-owners-'));
    try {
      await expect(startServer([], { dir, config: { shmOwners: ['no-such-user-here'] } })).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('modelServer.shmOwners.0: unknown user "no-such-user-here"'),
      });
    } finally {
      await removeDir(dir);
    }
  });
});
