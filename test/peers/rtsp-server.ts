import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./rtsp-server.py', import.meta.url));
/** The system python: it has python3-gi; a pyenv python on PATH may not. */
const PYTHON = process.env.LOOKOUT_TEST_PYTHON ?? '/usr/bin/python3';

export interface RtspServerOptions {
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
  readonly path?: string;
  readonly username?: string;
  readonly password?: string;
  /** How the server asks for them: Basic (default) or Digest only, as most IP cameras. */
  readonly authScheme?: 'basic' | 'digest';
  /**
   * A directory of JPEGs to send as they are, in name order and in a loop, `fps` a second, instead of
   * encoding a test pattern (width and height are then the files'): a camera whose encoder costs the
   * machine nothing, for benchmarks.
   */
  readonly jpegs?: string;
}

/** A GStreamer RTSP server as a child process on loopback (TCP and UDP). */
export class RtspServer {
  private child: ChildProcess | undefined;
  port = 0;

  constructor(private readonly options: RtspServerOptions = {}) {}

  get url(): string {
    return `rtsp://127.0.0.1:${this.port}${this.options.path ?? '/cam'}`;
  }

  /** Starts on `port` (0: a free one) and resolves once it listens. */
  async start(port = this.port): Promise<void> {
    const o = this.options;
    const args = [SCRIPT, String(port), o.path ?? '/cam', String(o.width ?? 320), String(o.height ?? 240), String(o.fps ?? 10)];
    if (o.username && o.password) args.push(o.username, o.password, o.authScheme ?? 'basic');
    if (o.jpegs) args.push('--jpegs', o.jpegs);
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    this.port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`rtsp server did not start: ${stderr}`)), 10_000);
      child.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /READY (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`rtsp server exited (${code}): ${stderr}`));
      });
    });
  }

  /** SIGSTOP freezes the server with its sockets open (a hung camera); SIGCONT thaws it. */
  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    this.child?.kill(sig);
  }

  /** Kills the server (SIGKILL: a camera that dies, not one that says goodbye). */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    });
  }
}
