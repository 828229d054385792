import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { isLookoutError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { GreengrassIpc } from '../../src/greengrass/adapters/ipc-client.js';
import { readGreengrassLayer } from '../../src/cli/config-options.js';
import { underGreengrass, watchGreengrassConfiguration } from '../../src/greengrass/component-config.js';
import type { ConfigLayer } from '../../src/config/load.js';
import { waitFor } from '../helpers/wait-for.js';
import { type IpcPeer, startIpcPeer } from '../peers/greengrass-ipc-peer.js';

let dir: string;
let peer: IpcPeer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'le-ggcfg-'));
  peer = await startIpcPeer({ socketPath: join(dir, 'ipc.sock') });
});
afterAll(async () => {
  await peer?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('readGreengrassLayer over IPC', () => {
  it('reads the component configuration with GetConfiguration and drops accessControl', async () => {
    peer.setConfiguration({
      accessControl: { 'aws.greengrass.ipc.mqttproxy': { p1: { operations: ['aws.greengrass#PublishToIoTCore'], resources: ['lookout/#'] } } },
      publish: { topicPrefix: 'factory', cloud: 'greengrass' },
      outbox: { maxRows: 5000.0 },
    });
    const layer = await readGreengrassLayer({ ...peer.env() });
    expect(layer?.source).toBe('greengrass');
    expect(layer?.values).toEqual({ publish: { topicPrefix: 'factory', cloud: 'greengrass' }, outbox: { maxRows: 5000 } });
    const config = loadConfig(layer ? [layer] : []);
    expect(config.publish.cloud).toBe('greengrass');
    expect(config.outbox.maxRows).toBe(5000);
    const request = peer.requests.at(-1);
    expect(request?.operation).toBe('GetConfiguration');
    expect(request?.body.keyPath).toEqual([]);
  });

  it('is undefined outside Greengrass', async () => {
    expect(underGreengrass({})).toBe(false);
    expect(await readGreengrassLayer({})).toBeUndefined();
  });

  it('fails with IPC_FAILED when the nucleus refuses the connection (wrong SVCUID)', async () => {
    const err = await readGreengrassLayer({ ...peer.env(), SVCUID: 'wrong-token' }).catch((e: unknown) => e);
    expect(isLookoutError(err, 'IPC_FAILED')).toBe(true);
  });

  it('fails with IPC_FAILED when GetConfiguration answers a ServiceError', async () => {
    peer.failNext('GetConfiguration', 'ServiceError', 'config store unavailable');
    const err = await readGreengrassLayer({ ...peer.env() }).catch((e: unknown) => e);
    expect(isLookoutError(err, 'IPC_FAILED')).toBe(true);
    expect((err as Error).message).toContain('config store unavailable');
  });

  it('follows deployments: a configuration update event yields the whole new layer', async () => {
    const ipc = new GreengrassIpc({ log: createLogger('silent'), env: peer.env(), callTimeoutMs: 1_000 });
    await ipc.start();
    const changes: { layer: ConfigLayer; keyPath: readonly string[] }[] = [];
    peer.setConfiguration({ accessControl: {}, decide: { threshold: 0.5 } });
    const off = watchGreengrassConfiguration(ipc, (layer, keyPath) => changes.push({ layer, keyPath }));
    // once the stream is open, the whole configuration is read again (an update may have come before it)
    await waitFor(() => changes.length === 1, 2_000, 'the read after subscribing');
    expect(changes[0]).toEqual({ layer: { source: 'greengrass', values: { decide: { threshold: 0.5 } } }, keyPath: [] });
    peer.setConfiguration({ accessControl: {}, decide: { threshold: 0.7 } });
    peer.pushConfigurationUpdate(['decide', 'threshold']);
    await waitFor(() => changes.length === 2, 2_000, 'the change');
    expect(changes[1]).toEqual({ layer: { source: 'greengrass', values: { decide: { threshold: 0.7 } } }, keyPath: ['decide', 'threshold'] });
    off();
    await ipc.stop();
  });
});
