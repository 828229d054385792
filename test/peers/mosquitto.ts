import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real mosquitto broker (Debian's /usr/sbin/mosquitto) on a free loopback port. */
export interface MosquittoPeer {
  readonly host: string;
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>` for mqtt.js. */
  readonly url: string;
  /** Stops the broker (SIGTERM) and waits for it to exit; the port stays reserved for restart(). */
  stop(): Promise<void>;
  /** Kills it hard (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and waits until it accepts connections. */
  restart(): Promise<void>;
  isRunning(): boolean;
  /** Stops it and removes its temp directory. */
  close(): Promise<void>;
  /** Broker log lines so far (for failing tests). */
  readonly log: string[];
}

export interface MosquittoOptions {
  readonly binary?: string;
  readonly port?: number;
  /** Keep sessions and queued messages across stop()/restart() (written to the temp dir on exit). Off by default. */
  readonly persistence?: boolean;
  /** Extra mosquitto.conf lines. */
  readonly extraConfig?: readonly string[];
  readonly startTimeoutMs?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoPeer> {
  const binary = options.binary ?? '/usr/sbin/mosquitto';
  const host = '127.0.0.1';
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'le-mosquitto-'));
  // Started as root, mosquitto drops to the `mosquitto` user: it must be able to write its database here.
  if (options.persistence) await chmod(dir, 0o777);
  const configPath = join(dir, 'mosquitto.conf');
  await writeFile(
    configPath,
    [`listener ${port} ${host}`, 'allow_anonymous true', ...(options.persistence ? ['persistence true', `persistence_location ${dir}/`] : ['persistence false']), 'log_dest stderr', 'log_type error', 'log_type warning', 'max_queued_messages 100000', ...(options.extraConfig ?? [])].join('\n') + '\n',
  );
  const log: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    const proc = spawn(binary, ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
    proc.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
    const deadline = Date.now() + (options.startTimeoutMs ?? 5_000);
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) break;
      if (await canConnect(host, port)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    proc.kill('SIGKILL');
    throw new Error(`mosquitto did not start on ${host}:${port}: ${log.join('').slice(-500)}`);
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await exited;
    child = undefined;
  };

  await launch();
  return {
    host,
    port,
    url: `mqtt://${host}:${port}`,
    log,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      await launch();
    },
    isRunning: () => Boolean(child && child.exitCode === null && child.signalCode === null),
    close: async () => {
      await halt('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
