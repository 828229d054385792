/**
 * What OPC UA costs the inspector's process (issue 19): the inspector's module graph alone (src/main.ts, as
 * every inspector loads it), then with node-opcua-client imported (what `plc.opcua` loads), with a link
 * connected to a PLC (session, subscription on one trigger node, 200 verdicts written), and with a
 * node-opcua-server serving a small read-only address space of our state (4 cameras x 4 counters, model
 * state) — the "OPC UA server of our own state" the issue asks to measure before building. Each case runs
 * in a fresh process (`--expose-gc`), three times; the medians are reported. RSS is read after a GC and a
 * 3 s settle (node-opcua's start-up check generates an RSA-4096 key in the background).
 *
 *   npx tsx bench/opcua-memory.bench.ts
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './types.js';

type Case = 'base' | 'client' | 'link' | 'server';
const CASES: readonly Case[] = ['base', 'client', 'link', 'server'];
const RUNS = 3;
const here = fileURLToPath(import.meta.url);

interface Sample {
  rssMb: number;
  heapMb: number;
  importMs: number;
}

const settle = async () => {
  await new Promise((r) => setTimeout(r, 3_000));
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 200));
};

async function child(which: Case): Promise<Sample> {
  await import('../src/main.js');
  let importMs = 0;
  const cleanup: Array<() => Promise<void>> = [];
  if (which === 'client') {
    const t = performance.now();
    await import('node-opcua-client');
    importMs = performance.now() - t;
  }
  if (which === 'link') {
    const { startOpcuaPeer } = await import('../test/peers/opcua-peer.js');
    const { opcuaCertificate } = await import('../test/helpers/opcua-certs.js');
    const { opcuaConfig, tempDir, verdict } = await import('../test/plc/opcua-kit.js');
    const { createPlcClients } = await import('../src/plc/create-plc.js');
    const { createLogger } = await import('../src/core/log.js');
    const dir = await tempDir('le-bench-opcua-');
    const mine = await opcuaCertificate(dir.path, 'lookout');
    const peer = await startOpcuaPeer();
    const t = performance.now();
    const [link] = await createPlcClients({ opcua: opcuaConfig({ endpointUrl: peer.endpointUrl, certificateFile: mine.certFile, privateKeyFile: mine.keyFile, triggers: [{ camera: 'cam1', nodeId: 'ns=1;s=Line1.Trigger' }] }) }, { inspectNow: async () => undefined, log: createLogger('silent') });
    importMs = performance.now() - t;
    await link!.start();
    while (link!.stats().state !== 'up') await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 200; i += 1) link!.onVerdict(verdict(i % 2 ? 'pass' : 'reject'));
    while (link!.stats().written < 200) await new Promise((r) => setTimeout(r, 20));
    cleanup.push(async () => {
      await link!.stop();
      await peer.close();
      await dir.remove();
    });
  }
  if (which === 'server') {
    const t = performance.now();
    const { OPCUAServer } = await import('node-opcua-server');
    const { DataType, Variant } = await import('node-opcua-client');
    importMs = performance.now() - t;
    const { opcuaCertificate } = await import('../test/helpers/opcua-certs.js');
    const { tempDir } = await import('../test/plc/opcua-kit.js');
    const dir = await tempDir('le-bench-opcua-');
    const cert = await opcuaCertificate(dir.path, 'inspector');
    const server = new OPCUAServer({ port: 0, host: '127.0.0.1', certificateFile: cert.certFile, privateKeyFile: cert.keyFile, serverInfo: { applicationUri: cert.applicationUri } });
    await server.initialize();
    const ns = server.engine.addressSpace!.getOwnNamespace();
    const root = ns.addObject({ organizedBy: server.engine.addressSpace!.rootFolder.objects, browseName: 'Inspector' });
    ns.addVariable({ componentOf: root, browseName: 'ModelState', dataType: DataType.String, value: { get: () => new Variant({ dataType: DataType.String, value: 'RUNNING' }) } });
    for (let c = 1; c <= 4; c += 1) {
      const cam = ns.addObject({ componentOf: root, browseName: `cam${c}` });
      for (const name of ['Pass', 'Reject', 'Hold', 'Errors']) ns.addVariable({ componentOf: cam, browseName: name, dataType: DataType.UInt32, value: { get: () => new Variant({ dataType: DataType.UInt32, value: 0 }) } });
    }
    await server.start();
    cleanup.push(async () => {
      await server.shutdown(0);
      await dir.remove();
    });
  }
  await settle();
  const { rss, heapUsed } = process.memoryUsage();
  for (const done of cleanup) await done();
  return { rssMb: rss / 2 ** 20, heapMb: heapUsed / 2 ** 20, importMs };
}

function measure(which: Case): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', here, '--child', which], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"rssMb"'));
      if (code !== 0 || !line) reject(new Error(`${which}: exited ${code}: ${out.slice(-500)}`));
      else resolve(JSON.parse(line) as Sample);
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<BenchResult[]> {
  const samples = new Map<Case, Sample[]>(CASES.map((c) => [c, []]));
  for (let i = 0; i < RUNS; i += 1) for (const c of CASES) samples.get(c)!.push(await measure(c)); // interleaved
  const m = (c: Case, k: keyof Sample) => median(samples.get(c)!.map((s) => s[k]));
  const base = { name: 'inspector modules alone', value: m('base', 'rssMb') };
  return [
    { name: `RSS with node-opcua-client imported (JS heap ${m('client', 'heapMb').toFixed(0)} MB; alone ${m('base', 'heapMb').toFixed(0)} MB)`, value: m('client', 'rssMb'), unit: 'MB', baseline: base },
    { name: 'import time of node-opcua-client', value: m('client', 'importMs'), unit: 'ms' },
    { name: `RSS with a connected plc.opcua link (session, 1 monitored trigger, 200 verdicts written; JS heap ${m('link', 'heapMb').toFixed(0)} MB)`, value: m('link', 'rssMb'), unit: 'MB', baseline: base },
    { name: `RSS with a node-opcua-server of our state (4 cameras x 4 counters, model state; JS heap ${m('server', 'heapMb').toFixed(0)} MB)`, value: m('server', 'rssMb'), unit: 'MB', baseline: base },
    { name: 'import time of node-opcua-server', value: m('server', 'importMs'), unit: 'ms' },
  ].map((r) => ('baseline' in r && r.baseline ? { ...r, ratio: r.value / r.baseline.value } : r));
}

if (process.argv[2] === '--child') {
  process.stdout.write(`${JSON.stringify(await child(process.argv[3] as Case))}\n`);
  process.exit(0);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) process.stdout.write(`${JSON.stringify(r)}\n`);
}
