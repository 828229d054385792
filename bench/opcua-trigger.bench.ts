/**
 * OPC UA trigger in -> verdict out, with a zero-cost model (issue 19): the PLC (test/peers/opcua-server.ts,
 * its own process) counts a part on its trigger counter node (a Boolean pulse shorter than the server's
 * sampling is seen as one value, not two: see README); the link sees the rising edge through its subscription, reads the
 * part id node, and the "inspection" decides a reject at once; the verdict goes back through the queue as one
 * Write call. Measured in the PLC's own clock: from the trigger node's change to the verdict write arriving.
 * With node-opcua's floor for the publishing interval (50 ms) and with a PLC that allows 10 ms.
 *
 *   npx tsx bench/opcua-trigger.bench.ts
 */
import { createLogger } from '../src/core/log.js';
import { createPlcClients } from '../src/plc/create-plc.js';
import { opcuaCertificate } from '../test/helpers/opcua-certs.js';
import { startOpcuaPeer } from '../test/peers/opcua-peer.js';
import { opcuaConfig, tempDir, verdict } from '../test/plc/opcua-kit.js';
import type { BenchResult } from './types.js';

const PULSES = Number(process.env.BENCH_OPCUA_PULSES ?? 200);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function measure(publishingIntervalMs: number): Promise<number[]> {
  const dir = await tempDir('le-bench-opcua-t-');
  const mine = await opcuaCertificate(dir.path, 'lookout');
  const peer = await startOpcuaPeer({ minPublishingIntervalMs: publishingIntervalMs });
  const config = opcuaConfig({
    endpointUrl: peer.endpointUrl, certificateFile: mine.certFile, privateKeyFile: mine.keyFile, publishingIntervalMs,
    triggers: [{ camera: 'cam1', nodeId: 'ns=1;s=Line1.TriggerCount', kind: 'counter', partIdNodeId: 'ns=1;s=Line1.TriggerPartId' }],
  });
  const holder: { link?: Awaited<ReturnType<typeof createPlcClients>>[number] } = {};
  const [link] = await createPlcClients({ opcua: config }, { inspectNow: async (cameraId, partId) => holder.link!.onVerdict(verdict('reject', { cameraId, ...(partId ? { partId } : {}) })), log: createLogger('silent') });
  holder.link = link!;
  await link!.start();
  while (link!.stats().state !== 'up') await new Promise((r) => setTimeout(r, 20));
  const latencies: number[] = [];
  try {
    for (let i = -5; i < PULSES; i += 1) {
      const partId = `B-${i}`;
      await peer.command({ cmd: 'set', node: 'Line1.TriggerPartId', value: partId });
      await peer.command({ cmd: 'set', node: 'Line1.TriggerCount', value: i + 10 });
      const raised = peer.events.findLast((e) => e.event === 'ack')!.at; // the ack follows the change in the same tick
      const deadline = Date.now() + 5_000;
      let write;
      while (!(write = peer.writes('Line1.PartId').find((w) => w.value === partId)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      if (i >= 0 && write) latencies.push(write.at - raised); // the first five warm up (and set the baseline)
      if (process.env.BENCH_DEBUG) process.stderr.write(`${i} ${write ? write.at - raised : 'lost'}\n`);
    }
  } finally {
    await link!.stop();
    await peer.close();
    await dir.remove();
  }
  return latencies;
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const interval of [50, 10]) {
    const l = await measure(interval);
    const lost = PULSES - l.length;
    results.push(
      { name: `trigger counter changes -> verdict written, publishing interval ${interval} ms: p50 (${l.length} of ${PULSES} pulses${lost ? `, ${lost} lost` : ''})`, value: pct(l, 50), unit: 'ms' },
      { name: `trigger counter changes -> verdict written, publishing interval ${interval} ms: p99`, value: pct(l, 99), unit: 'ms', target: '<= 25 ms + model' },
    );
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) process.stdout.write(`${JSON.stringify(r)}\n`);
}
