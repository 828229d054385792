import { chown, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEdgeAgentRpc } from '../../src/inference/adapters/grpc-channel.js';
import { EdgeAgentClient } from '../../src/inference/edge-agent-client.js';
import { clientConfig, image, removeDir, silentLog, startServer, tempDir, type TestServer } from '../peers/edge-agent-peer.js';

/**
 * The client talks only to a socket that our user, root or inference.socketOwner bound: another local user
 * who binds the path first (AWS's /tmp path is anybody's to take) gets no connection, not even an attempt.
 * We run as root here, so "another user" is a socket chowned to nobody (65534).
 */

const NOBODY = 65534;
const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function agent(): Promise<TestServer> {
  const a = await startServer([{ component: 'm' }]);
  cleanup.push(() => removeDir(a.dir), () => a.stop());
  return a;
}

async function client(endpoint: string, overrides: Parameters<typeof clientConfig>[1] = {}): Promise<EdgeAgentClient> {
  const c = new EdgeAgentClient({ connect: createEdgeAgentRpc, config: clientConfig(endpoint, { retry: { initialBackoffMs: 10, maxBackoffMs: 20, maxAttempts: 2 }, ...overrides }), log: silentLog });
  await c.start();
  cleanup.push(() => c.stop());
  return c;
}

describe('the Edge Agent socket owner', () => {
  it('an impostor socket of another user gets no connection: INFERENCE_SOCKET_UNTRUSTED, naming the owner', async () => {
    const dir = await tempDir('le-impostor-');
    cleanup.push(() => removeDir(dir));
    const path = join(dir, 'edge-agent.sock');
    let connections = 0;
    const impostor: Server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => impostor.listen(path, resolve));
    cleanup.push(() => new Promise((resolve) => impostor.close(resolve)));
    await chown(path, NOBODY, NOBODY);

    const c = await client(`unix://${path}`);
    await expect(c.describe('m')).rejects.toMatchObject({
      code: 'INFERENCE_SOCKET_UNTRUSTED',
      message: expect.stringContaining(`${path} belongs to uid ${NOBODY}, not to us, root or inference.socketOwner`),
    });
    await expect(c.detect('m', image(64, 64), { wantMask: false })).rejects.toMatchObject({ code: 'INFERENCE_SOCKET_UNTRUSTED' });
    expect(connections).toBe(0);
  });

  it('checks again on every call: a socket that changes owner is refused, and used again once it is ours', async () => {
    const a = await agent();
    const c = await client(a.address);
    expect((await c.detect('m', image(64, 64), { wantMask: false })).isAnomalous).toBe(false);
    await chown(a.socket, NOBODY, NOBODY);
    await expect(c.detect('m', image(64, 64), { wantMask: false })).rejects.toMatchObject({ code: 'INFERENCE_SOCKET_UNTRUSTED' });
    await chown(a.socket, 0, 0);
    expect((await c.detect('m', image(64, 64), { wantMask: false })).isAnomalous).toBe(false);
  });

  it('accepts the user named in inference.socketOwner (a model server running as another user)', async () => {
    const a = await agent();
    await chown(a.socket, NOBODY, NOBODY);
    const c = await client(a.address, { socketOwner: 'nobody' });
    expect((await c.detect('m', image(64, 64), { wantMask: false })).isAnomalous).toBe(false);
  });

  it('refuses a symbolic link to the socket (the link, not its target, is what someone could plant)', async () => {
    const a = await agent();
    const link = join(a.dir, 'link.sock');
    await symlink(a.socket, link);
    const c = await client(`unix://${link}`);
    await expect(c.describe('m')).rejects.toMatchObject({ code: 'INFERENCE_SOCKET_UNTRUSTED', message: expect.stringContaining('is a symbolic link') });
  });

  it('a missing socket is a model server that is not running (INFERENCE_UNAVAILABLE), as before', async () => {
    const dir = await tempDir('le-nosock-');
    cleanup.push(() => removeDir(dir));
    const c = await client(`unix://${join(dir, 'none.sock')}`);
    await expect(c.describe('m')).rejects.toMatchObject({ code: 'INFERENCE_UNAVAILABLE', message: expect.stringContaining('is the model server running?') });
  });

  it('does not start with an unknown user in inference.socketOwner', async () => {
    const c = new EdgeAgentClient({ connect: createEdgeAgentRpc, config: clientConfig('unix:///nowhere.sock', { socketOwner: 'no-such-user-here' }), log: silentLog });
    await expect(c.start()).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: 'inference.socketOwner: unknown user "no-such-user-here"' });
  });
});
