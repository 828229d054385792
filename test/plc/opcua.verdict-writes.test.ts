import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { createPlcClients } from '../../src/plc/create-plc.js';
import type { PlcClient } from '../../src/plc/ports.js';
import { opcuaCertificate, type CertPair } from '../helpers/opcua-certs.js';
import { waitFor } from '../helpers/wait-for.js';
import { type OpcuaPeer, startOpcuaPeer } from '../peers/opcua-peer.js';
import { opcuaConfig, tempDir, verdict } from './opcua-kit.js';

/** Verdicts to a PLC's OPC UA server (security None): written in order, refusals and a slow PLC do not hold anything up. */
describe('OPC UA: verdict writes', () => {
  let peer: OpcuaPeer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let mine: CertPair;
  let link: PlcClient | undefined;
  const triggered: Array<{ camera: string; partId?: string }> = [];

  beforeAll(async () => {
    dir = await tempDir('le-opcua-w-');
    mine = await opcuaCertificate(dir.path, 'lookout');
    peer = await startOpcuaPeer();
  });
  afterEach(async () => {
    await link?.stop('test');
    link = undefined;
    await peer.command({ cmd: 'refuse', on: false });
    await peer.command({ cmd: 'slow', ms: 0 });
  });
  afterAll(async () => {
    await peer?.close();
    await dir?.remove();
  });

  const connect = async (values: Record<string, unknown> = {}): Promise<PlcClient> => {
    const config = opcuaConfig({ endpointUrl: peer.endpointUrl, certificateFile: mine.certFile, privateKeyFile: mine.keyFile, ...values });
    const [created] = await createPlcClients({ opcua: config }, { inspectNow: async (camera, partId) => void triggered.push({ camera, ...(partId ? { partId } : {}) }), log: createLogger('silent') });
    link = created!;
    await link.start();
    await waitFor(() => link!.stats().state === 'up', 20_000, 'connected');
    return link;
  };

  it('writes outcome, score, part id, timestamp and camera of each verdict, in order, as the nodes\' data types', async () => {
    const plc = await connect();
    const from = peer.events.length;
    const a = verdict('reject');
    const b = verdict('pass');
    plc.onVerdict(a);
    plc.onVerdict(b);
    await waitFor(() => plc.stats().written === 2, 10_000, 'two verdicts written');
    const writes = peer.events.slice(from).filter((e) => e.event === 'write');
    expect(writes.map((w) => [w.node, w.value])).toEqual([
      ['Line1.Outcome', 'reject'], ['Line1.Score', 0.9], ['Line1.PartId', a.partId], ['Line1.Timestamp', new Date(a.decidedAt).toISOString()], ['Line1.Camera', 'cam1'],
      ['Line1.Outcome', 'pass'], ['Line1.Score', 0.1], ['Line1.PartId', b.partId], ['Line1.Timestamp', new Date(b.decidedAt).toISOString()], ['Line1.Camera', 'cam1'],
    ]);
    expect(plc.stats()).toMatchObject({ state: 'up', queued: 0, refused: 0, dropped: 0 });
  });

  it('counts a refused write (BadUserAccessDenied) with a typed error, and goes on with the next verdict', async () => {
    const plc = await connect();
    await peer.command({ cmd: 'refuse', on: true });
    plc.onVerdict(verdict('reject'));
    await waitFor(() => plc.stats().refused === 1, 10_000, 'refused');
    expect(plc.stats().lastError).toMatchObject({ code: 'OPCUA_WRITE_REFUSED' });
    expect(plc.stats().lastError?.message).toContain('BadUserAccessDenied');
    await peer.command({ cmd: 'refuse', on: false });
    const next = verdict('pass');
    plc.onVerdict(next);
    await waitFor(() => plc.stats().written === 1, 10_000, 'next written');
    expect(peer.writes('Line1.PartId').at(-1)).toMatchObject({ value: next.partId, status: 'Good' });
  });

  it('does not make verdicts wait for a slow PLC: they queue, in order, and the oldest are dropped past the bound', async () => {
    const plc = await connect({ queueSize: 5 });
    await peer.command({ cmd: 'slow', ms: 400 });
    const verdicts = Array.from({ length: 12 }, () => verdict('reject'));
    plc.onVerdict(verdicts[0]!);
    await new Promise((resolve) => setImmediate(resolve)); // the queue has taken the first one on the wire
    for (const v of verdicts.slice(1)) expect(plc.onVerdict(v)).toBeUndefined(); // returns at once, nothing to await
    expect(plc.stats().queued).toBe(5);
    expect(plc.stats().dropped).toBe(7);
    await peer.command({ cmd: 'slow', ms: 0 });
    await waitFor(() => plc.stats().queued === 0, 20_000, 'queue drained');
    const written = peer.writes('Line1.PartId').map((w) => w.value);
    // the one on the wire when the queue filled, then the newest four, in order
    expect(written.slice(-5)).toEqual([verdicts[0]!.partId, ...verdicts.slice(8).map((v) => v.partId)]);
  });

  it('starts an inspection on a rising edge of the trigger node, with the part id from its node; a falling edge does nothing', async () => {
    await connect({ triggers: [{ camera: 'cam1', nodeId: 'ns=1;s=Line1.Trigger', partIdNodeId: 'ns=1;s=Line1.TriggerPartId' }] });
    triggered.length = 0;
    const pulse = async (partId: string) => {
      await peer.command({ cmd: 'set', node: 'Line1.Trigger', value: false });
      await peer.command({ cmd: 'set', node: 'Line1.TriggerPartId', value: partId });
      await peer.command({ cmd: 'set', node: 'Line1.Trigger', value: true });
    };
    // the first value the subscription reports is a baseline, not an edge: pulse until the link has seen one
    await waitFor(async () => (await pulse('A-77'), await waitFor(() => triggered.length > 0, 1_000).then(() => true, () => false)), 20_000, 'a first trigger');
    expect(triggered[0]).toEqual({ camera: 'cam1', partId: 'A-77' });
    // a level changed back within one of the server's samples is lost (README): pulse until one is seen
    await waitFor(async () => (await pulse('A-78'), await waitFor(() => triggered.some((t) => t.partId === 'A-78'), 1_000).then(() => true, () => false)), 20_000, () => `a trigger for A-78 (${JSON.stringify(triggered)})`);
    // one inspection per rising edge, none for the falling ones
    expect(triggered.every((t) => t.camera === 'cam1' && (t.partId === 'A-77' || t.partId === 'A-78'))).toBe(true);
    expect(link!.stats().triggers).toBe(triggered.length);
  });

  it('starts an inspection on each change of a counter node, not on its first value', async () => {
    await peer.command({ cmd: 'set', node: 'Line1.TriggerCount', value: 41 });
    await connect({ triggers: [{ camera: 'cam2', nodeId: 'ns=1;s=Line1.TriggerCount', kind: 'counter' }] });
    triggered.length = 0;
    await peer.command({ cmd: 'set', node: 'Line1.TriggerCount', value: 42 });
    await peer.command({ cmd: 'set', node: 'Line1.TriggerCount', value: 43 });
    await waitFor(() => triggered.length === 2, 10_000, 'two triggers');
    expect(triggered).toEqual([{ camera: 'cam2' }, { camera: 'cam2' }]);
  });
});
