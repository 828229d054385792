import { chmod, chown, lstat, mkdir, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rawClient, removeDir, startServer, tempDir } from '../peers/edge-agent-peer.js';

/**
 * The model server listens only where no other local user can bind the path first or replace the socket:
 * a directory it creates 0700, or one that is ours and writable by no one else; a shared sticky directory
 * owned by root (/tmp, for AWS's path) is the one exception. Anything else: SOCKET_PATH_UNSAFE, no start.
 * We run as root here, so "another user's directory" is one chowned to nobody (65534).
 */

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function base(): Promise<string> {
  const dir = await tempDir('le-sockdir-');
  cleanup.push(() => removeDir(dir));
  return dir;
}

async function serveAt(dir: string, socket: string) {
  const server = await startServer([{ component: 'm' }], { dir, config: { socket } });
  cleanup.push(() => server.stop());
  return server;
}

describe('the socket directory', () => {
  it('is created 0700 when missing, and the server answers there', async () => {
    const dir = await base();
    const socket = join(dir, 'lookout-edge', 'edge-agent.sock');
    const server = await serveAt(dir, socket);
    expect((await lstat(join(dir, 'lookout-edge'))).mode & 0o777).toBe(0o700);
    expect((await lstat(socket)).isSocket()).toBe(true);
    const c = rawClient(server.address);
    try {
      expect((await c.call<{ models: unknown[] }>('ListModels', {})).models).toHaveLength(1);
    } finally {
      c.close();
    }
  });

  it.each([
    ['another user\'s directory', async (d: string) => { await mkdir(d, { mode: 0o700 }); await chown(d, 65534, 65534); }, /belongs to uid 65534, not to us/],
    ['a group-writable directory', async (d: string) => { await mkdir(d); await chmod(d, 0o770); }, /is writable by its group \(mode 770\)/],
    ['a world-writable directory without the sticky bit', async (d: string) => { await mkdir(d); await chmod(d, 0o777); }, /is writable by its group and others \(mode 777\)/],
    ['a symbolic link to a directory', async (d: string) => { await mkdir(`${d}-real`, { mode: 0o700 }); await symlink(`${d}-real`, d); }, /is not a directory \(a symlink or a file\)/],
  ])('refuses %s: SOCKET_PATH_UNSAFE, nothing listens', async (_what, make, message) => {
    const dir = await base();
    const sockDir = join(dir, 'run');
    await make(sockDir);
    await expect(startServer([{ component: 'm' }], { dir, config: { socket: join(sockDir, 'edge-agent.sock') } })).rejects.toMatchObject({
      code: 'SOCKET_PATH_UNSAFE',
      message: expect.stringMatching(message),
    });
    await expect(lstat(join(sockDir, 'edge-agent.sock'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('accepts a shared sticky directory owned by root, like /tmp (AWS\'s agent path)', async () => {
    const dir = await base();
    const shared = join(dir, 'tmp');
    await mkdir(shared);
    await chmod(shared, 0o1777);
    const socket = join(shared, 'aws.iot.lookoutvision.EdgeAgent.sock');
    await serveAt(dir, socket);
    expect((await lstat(socket)).isSocket()).toBe(true);
  });

  it('does not take over a socket another user bound there first (in a shared directory anyone can be first)', async () => {
    const dir = await base();
    const shared = join(dir, 'tmp');
    await mkdir(shared);
    await chmod(shared, 0o1777);
    const socket = join(shared, 'aws.iot.lookoutvision.EdgeAgent.sock');
    const squatter = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => squatter.listen(socket, resolve));
    cleanup.push(() => new Promise((resolve) => squatter.close(resolve)));
    await chown(socket, 65534, 65534);
    await expect(startServer([{ component: 'm' }], { dir, config: { socket } })).rejects.toMatchObject({
      code: 'SOCKET_PATH_UNSAFE',
      message: expect.stringContaining('belongs to uid 65534: another user bound the path before the model server'),
    });
    expect((await lstat(socket)).uid).toBe(65534);
  });

  it('a server stopping slowly leaves alone the socket a newer server put on its path', async () => {
    const dir = await base();
    const socket = join(dir, 'agent.sock');
    // the old server's model takes a while to unload: its socket is dead but still on the path meanwhile
    const old = await startServer([{ component: 'm', script: { unloadDelayMs: 1_500 } }], { dir, config: { socket } });
    let oldStopped = false;
    const stopping = old.stop().then(() => (oldStopped = true));
    await new Promise((r) => setTimeout(r, 200)); // past its gRPC stop, into the unload
    const fresh = await serveAt(dir, socket); // finds the dead socket, replaces it
    expect(oldStopped).toBe(false);
    await stopping;
    expect((await lstat(socket)).isSocket()).toBe(true);
    const c = rawClient(fresh.address);
    try {
      expect((await c.call<{ models: unknown[] }>('ListModels', {})).models).toHaveLength(1);
    } finally {
      c.close();
    }
  }, 20_000);
});
