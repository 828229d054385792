/**
 * OPC UA trigger in -> verdict out, with a zero-cost model (issue 19): the PLC (test/peers/opcua-server.ts,
 * its own process) counts a part on its trigger counter node; the link sees the change through its
 * subscription, reads the part id node, and the "inspection" decides a reject at once; the verdict goes back
 * through the queue as one Write call. Measured in the PLC's own clock: from the trigger node's change to the
 * verdict write arriving. Parts come 50-150 ms apart (a line at about 10 parts/s), not back to back: a server
 * folds the changes of one node inside its MinSupportedSampleRate window into one, reported at the window's
 * end, so back-to-back parts would measure that window (README).
 *
 * Cases: the link's publishing interval against a server's floors for publishing and for sampling
 * (node-opcua's defaults 50/50; a PLC at 10/10; a server that reports every change, 10/0). Each case also
 * measures the CPU of this process (the inspector's side) over 10 s idle with the subscription on, after the parts.
 *
 *   npx tsx bench/run.ts opcua-trigger     (--opcua-pulses=200)
 */
import { createLogger } from '../src/core/log.js';
import { createPlcClients } from '../src/plc/create-plc.js';
import { opcuaCertificate } from '../test/helpers/opcua-certs.js';
import { startOpcuaPeer } from '../test/peers/opcua-peer.js';
import { opcuaConfig, tempDir, verdict } from '../test/plc/opcua-kit.js';
import type { BenchResult } from './types.js';

const PULSES = Number(process.env.BENCH_OPCUA_PULSES ?? 200);
const IDLE_MS = 10_000;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Case {
  readonly publishingIntervalMs: number;
  readonly serverPublishingFloorMs: number;
  readonly serverSamplingFloorMs: number;
}

async function measure(c: Case): Promise<{ latencies: number[]; idleCpuPercent: number }> {
  const dir = await tempDir('le-bench-opcua-t-');
  const mine = await opcuaCertificate(dir.path, 'lookout');
  const peer = await startOpcuaPeer({ minPublishingIntervalMs: c.serverPublishingFloorMs, minSamplingIntervalMs: c.serverSamplingFloorMs });
  const config = opcuaConfig({
    endpointUrl: peer.endpointUrl, certificateFile: mine.certFile, privateKeyFile: mine.keyFile, publishingIntervalMs: c.publishingIntervalMs,
    triggers: [{ camera: 'cam1', nodeId: 'ns=1;s=Line1.TriggerCount', kind: 'counter', partIdNodeId: 'ns=1;s=Line1.TriggerPartId' }],
  });
  const holder: { link?: Awaited<ReturnType<typeof createPlcClients>>[number] } = {};
  const [link] = await createPlcClients({ opcua: config }, { inspectNow: async (cameraId, partId) => holder.link!.onVerdict(verdict('reject', { cameraId, ...(partId ? { partId } : {}) })), log: createLogger('silent') });
  holder.link = link!;
  await link!.start();
  while (link!.stats().state !== 'up') await sleep(20);
  const latencies: number[] = [];
  let idleCpuPercent = 0;
  try {
    for (let i = -5; i < PULSES; i += 1) {
      const partId = `B-${i}`;
      await peer.command({ cmd: 'set', node: 'Line1.TriggerPartId', value: partId });
      await peer.command({ cmd: 'set', node: 'Line1.TriggerCount', value: i + 10 });
      const raised = peer.events.findLast((e) => e.event === 'ack')!.at; // the ack follows the change in the same tick
      const deadline = Date.now() + 5_000;
      let write;
      while (!(write = peer.writes('Line1.PartId').find((w) => w.value === partId)) && Date.now() < deadline) await sleep(1);
      if (i >= 0 && write) latencies.push(write.at - raised); // the first five warm up (and set the baseline)
      if (process.env.BENCH_DEBUG) process.stderr.write(`${i} ${write ? write.at - raised : 'lost'}\n`);
      await sleep(50 + Math.random() * 100);
    }
    // after the parts, when start-up and the JIT are behind us
    await sleep(1_000);
    const cpu = process.cpuUsage();
    const from = performance.now();
    await sleep(IDLE_MS);
    const used = process.cpuUsage(cpu);
    idleCpuPercent = ((used.user + used.system) / 1_000 / (performance.now() - from)) * 100;
  } finally {
    await link!.stop();
    await peer.close();
    await dir.remove();
  }
  return { latencies, idleCpuPercent };
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const cases: Case[] = [
    { publishingIntervalMs: 50, serverPublishingFloorMs: 50, serverSamplingFloorMs: 50 },
    { publishingIntervalMs: 10, serverPublishingFloorMs: 50, serverSamplingFloorMs: 50 },
    { publishingIntervalMs: 10, serverPublishingFloorMs: 10, serverSamplingFloorMs: 10 },
    { publishingIntervalMs: 10, serverPublishingFloorMs: 10, serverSamplingFloorMs: 0 },
  ];
  for (const c of cases) {
    const { latencies: l, idleCpuPercent } = await measure(c);
    const lost = PULSES - l.length;
    const label = `publishingIntervalMs ${c.publishingIntervalMs}, server floors ${c.serverPublishingFloorMs}/${c.serverSamplingFloorMs} ms`;
    results.push(
      { name: `trigger counter changes -> verdict written, ${label}: p50 (${l.length} of ${PULSES} parts${lost ? `, ${lost} lost` : ''})`, value: pct(l, 50), unit: 'ms' },
      { name: `trigger counter changes -> verdict written, ${label}: p99`, value: pct(l, 99), unit: 'ms', target: '<= 25 ms + model' },
      { name: `CPU of the inspector's side at idle, subscription on, ${label}`, value: idleCpuPercent, unit: '% of a core' },
    );
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) process.stdout.write(`${JSON.stringify(r)}\n`);
}
