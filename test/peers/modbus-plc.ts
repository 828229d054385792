import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** What the PLC peer reports on stdout (see modbus-plc.py). */
export interface PlcEvent {
  readonly event: 'listening' | 'write' | 'refused' | 'set' | 'refuse' | 'delay';
  /** Milliseconds on the peer's monotonic clock. */
  readonly t?: number;
  readonly table?: 'co' | 'di' | 'hr' | 'ir';
  readonly address?: number;
  readonly values?: number[];
  readonly id?: string | number | null;
  readonly port?: number;
}

/** A Modbus TCP PLC (pymodbus 3.0, test/peers/modbus-plc.py) in its own process on a loopback port. */
export interface ModbusPlcPeer {
  readonly host: string;
  readonly port: number;
  /** Every event since start (across restarts). */
  readonly events: PlcEvent[];
  /** Resolves with the first event (from `from` on) that matches. */
  waitFor(match: (e: PlcEvent) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<PlcEvent>;
  /** The plant sets an input (a light barrier, a part id); resolves when the PLC applied it. */
  set(table: 'co' | 'di' | 'hr' | 'ir', address: number, values: number[]): Promise<PlcEvent>;
  refuseWrites(on: boolean): Promise<void>;
  delay(ms: number): Promise<void>;
  /** SIGKILL, as a power cut; the port stays for restart(). */
  kill(): Promise<void>;
  /** Starts again on the same port, every coil and register back at 0. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const script = fileURLToPath(new URL('./modbus-plc.py', import.meta.url));
let ids = 0;

export async function startModbusPlc(options: { port?: number } = {}): Promise<ModbusPlcPeer> {
  const events: PlcEvent[] = [];
  const waiters = new Set<() => void>();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let port = options.port ?? 0;
  let stderr = '';

  const launch = async (): Promise<void> => {
    const proc = spawn('/usr/bin/python3', [script, '--port', String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      events.push(JSON.parse(line) as PlcEvent);
      for (const wake of waiters) wake();
    });
    const from = events.length;
    const listening = await Promise.race([
      peer.waitFor((e) => e.event === 'listening', { from, timeoutMs: 20_000 }),
      exited.then(() => Promise.reject(new Error(`the PLC peer exited: ${stderr}`))),
    ]);
    port = listening.port!;
  };

  const send = (cmd: Record<string, unknown>): void => void child?.stdin?.write(`${JSON.stringify(cmd)}\n`);

  const peer: ModbusPlcPeer = {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    events,
    waitFor(match, { from = 0, timeoutMs = 20_000 } = {}) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = events.slice(from).find(match);
          if (!hit) return false;
          cleanup();
          resolve(hit);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching PLC event within ${timeoutMs} ms; last: ${JSON.stringify(events.slice(-5))}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        const wake = (): void => void check();
        if (!check()) waiters.add(wake);
      });
    },
    async set(table, address, values) {
      const id = ++ids;
      const from = events.length;
      send({ cmd: 'set', table, address, values, id });
      return peer.waitFor((e) => e.event === 'set' && e.id === id, { from });
    },
    async refuseWrites(on) {
      const from = events.length;
      send({ cmd: 'refuse', on });
      await peer.waitFor((e) => e.event === 'refuse', { from });
    },
    async delay(ms) {
      const from = events.length;
      send({ cmd: 'delay', ms });
      await peer.waitFor((e) => e.event === 'delay', { from });
    },
    async kill() {
      child?.kill('SIGKILL');
      await exited;
    },
    restart: launch,
    async close() {
      child?.stdin?.end();
      child?.kill('SIGTERM');
      await exited;
    },
  };
  await launch();
  return peer;
}

/** The writes the PLC logged to one coil or register, in order. */
export function writesTo(events: readonly PlcEvent[], table: 'co' | 'hr', address: number): PlcEvent[] {
  return events.filter((e) => e.event === 'write' && e.table === table && e.address === address);
}
