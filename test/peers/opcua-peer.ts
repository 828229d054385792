import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { opcuaCertificate, type CertPair } from '../helpers/opcua-certs.js';
import { freePort } from './mosquitto.js';

/** What the OPC UA test server (test/peers/opcua-server.ts) says on stdout. */
export interface OpcuaPeerEvent {
  readonly event: 'ready' | 'write' | 'ack';
  readonly node?: string;
  readonly value?: unknown;
  readonly status?: string;
  /** When the peer logged it (ms since the epoch, its own clock). */
  readonly at: number;
}

export interface OpcuaPeer {
  readonly port: number;
  readonly endpointUrl: string;
  /** The server's certificate (what a client trusts). */
  readonly certificate: CertPair;
  /** Every event so far, across restarts. */
  readonly events: OpcuaPeerEvent[];
  writes(node?: string): OpcuaPeerEvent[];
  /** Sends a command and waits for its ack. */
  command(cmd: Record<string, unknown>): Promise<void>;
  /** SIGKILL, as a PLC losing power. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same certificates and trust list. */
  restart(): Promise<void>;
  close(): Promise<void>;
  readonly stderr: string[];
}

export interface OpcuaPeerOptions {
  readonly modes?: Array<'None' | 'SignAndEncrypt'>;
  /** Client certificates the server trusts. */
  readonly trust?: readonly string[];
  readonly user?: { name: string; password: string };
  readonly minPublishingIntervalMs?: number;
  /** The server's MinSupportedSampleRate (node-opcua 50 ms): the window in which it folds a node's changes into one. */
  readonly minSamplingIntervalMs?: number;
}

const root = new URL('../../', import.meta.url).pathname;

/** Starts the OPC UA test server in a child process on a free loopback port; waits until it serves. */
export async function startOpcuaPeer(options: OpcuaPeerOptions = {}): Promise<OpcuaPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'le-opcua-peer-'));
  const certificate = await opcuaCertificate(dir, 'plc');
  const port = await freePort();
  const args = JSON.stringify({ port, pkiDir: join(dir, 'pki'), certFile: certificate.certFile, keyFile: certificate.keyFile, trust: options.trust ?? [], modes: options.modes ?? ['None'], ...(options.user ? { user: options.user } : {}), ...(options.minPublishingIntervalMs !== undefined ? { minPublishingIntervalMs: options.minPublishingIntervalMs } : {}), ...(options.minSamplingIntervalMs !== undefined ? { minSamplingIntervalMs: options.minSamplingIntervalMs } : {}) });
  const events: OpcuaPeerEvent[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const waitEvent = (match: (e: OpcuaPeerEvent) => boolean, from: number, timeoutMs = 60_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (events.slice(from).some(match)) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`OPC UA peer: timed out; stderr: ${stderr.join('').slice(-800)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const launch = async () => {
    const from = events.length;
    const proc = spawn(process.execPath, ['--import', 'tsx', 'test/peers/opcua-server.ts', args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    createInterface({ input: proc.stdout! }).on('line', (text) => {
      if (!text.startsWith('{')) return; // node-opcua's own console lines
      events.push(JSON.parse(text) as OpcuaPeerEvent);
      for (const w of [...waiters]) w();
    });
    await Promise.race([waitEvent((e) => e.event === 'ready', from), exited.then(() => Promise.reject(new Error(`OPC UA peer exited: ${stderr.join('').slice(-800)}`)))]);
  };
  const halt = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await exited;
    child = undefined;
  };

  await launch();
  return {
    port,
    endpointUrl: `opc.tcp://127.0.0.1:${port}`,
    certificate,
    events,
    stderr,
    writes: (node) => events.filter((e) => e.event === 'write' && (node === undefined || e.node === node)),
    command: async (cmd) => {
      const from = events.length;
      child?.stdin?.write(`${JSON.stringify(cmd)}\n`);
      await waitEvent((e) => e.event === 'ack', from);
    },
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGKILL');
      await launch();
    },
    close: async () => {
      await halt('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
