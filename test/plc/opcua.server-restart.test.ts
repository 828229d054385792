import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { createPlcClients } from '../../src/plc/create-plc.js';
import type { PlcClient } from '../../src/plc/ports.js';
import { opcuaCertificate } from '../helpers/opcua-certs.js';
import { waitFor } from '../helpers/wait-for.js';
import { type OpcuaPeer, startOpcuaPeer } from '../peers/opcua-peer.js';
import { opcuaConfig, tempDir, verdict } from './opcua-kit.js';

/**
 * The PLC loses power (SIGKILL) and comes back on the same port: it has forgotten our session and our
 * subscription. Verdicts decided meanwhile wait and are all written, in order; triggers work again.
 */
describe('OPC UA: PLC restart', () => {
  let peer: OpcuaPeer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let link: PlcClient;
  const triggered: string[] = [];

  beforeAll(async () => {
    dir = await tempDir('le-opcua-r-');
    const mine = await opcuaCertificate(dir.path, 'lookout');
    peer = await startOpcuaPeer();
    const config = opcuaConfig({
      endpointUrl: peer.endpointUrl,
      certificateFile: mine.certFile,
      privateKeyFile: mine.keyFile,
      triggers: [{ camera: 'cam1', nodeId: 'ns=1;s=Line1.Trigger', partIdNodeId: 'ns=1;s=Line1.TriggerPartId' }],
      backoff: { initialMs: 100, maxMs: 1_000 },
      writeTimeoutMs: 1_000,
    });
    [link] = (await createPlcClients({ opcua: config }, { inspectNow: async (_camera, partId) => void triggered.push(partId ?? ''), log: createLogger('silent') })) as [PlcClient];
    await link.start();
    await waitFor(() => link.stats().state === 'up', 20_000, 'connected');
  });
  afterAll(async () => {
    await link?.stop('test');
    await peer?.close();
    await dir?.remove();
  });

  it('writes every verdict decided while the PLC was away once it is back, in order, and takes triggers again', async () => {
    link.onVerdict(verdict('pass'));
    await waitFor(() => link.stats().written === 1, 10_000, 'first write');

    await peer.kill();
    const during = Array.from({ length: 5 }, (_, i) => verdict(i % 2 ? 'pass' : 'reject'));
    for (const v of during) link.onVerdict(v);
    await waitFor(() => link.stats().state === 'down', 20_000, 'connection seen lost');
    expect(link.stats().lastError?.code).toBe('OPCUA_UNAVAILABLE');

    await peer.restart();
    await waitFor(() => link.stats().written === 6, 60_000, () => `verdicts written after the restart (${JSON.stringify(link.stats())})`);
    const partIds = peer.writes('Line1.PartId').filter((w) => w.status === 'Good').map((w) => w.value);
    // at least once: a write cut off by the kill may appear twice, but none is missing and the order holds
    const lastOfEach = during.map((v) => partIds.lastIndexOf(v.partId));
    expect(lastOfEach.every((index) => index >= 0)).toBe(true);
    expect([...lastOfEach].sort((a, b) => a - b)).toEqual(lastOfEach);
    expect(link.stats()).toMatchObject({ state: 'up', queued: 0, dropped: 0, refused: 0 });

    // the trigger subscription is back on the new server
    await peer.command({ cmd: 'set', node: 'Line1.Trigger', value: false });
    await waitFor(
      async () => {
        await peer.command({ cmd: 'set', node: 'Line1.TriggerPartId', value: `R-${Date.now()}` });
        await peer.command({ cmd: 'set', node: 'Line1.Trigger', value: true });
        await new Promise((r) => setTimeout(r, 200));
        await peer.command({ cmd: 'set', node: 'Line1.Trigger', value: false });
        return triggered.length > 0;
      },
      30_000,
      'a trigger after the restart',
    );
    expect(triggered[0]).toMatch(/^R-\d+$/);
  });
});
