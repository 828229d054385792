import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** GigE Vision's control port (GVCP, UDP), fixed by the standard: one fake camera per address. */
const GVCP_PORT = 3956;
const BINARY = process.env.LOOKOUT_TEST_ARV_FAKE ?? 'arv-fake-gv-camera-0.8';
/** Test files (run in parallel by vitest, or by other checkouts) take turns with the one camera. */
const LOCK = join(tmpdir(), 'lookout-fake-gv-camera.lock');
const LOCK_WAIT_MS = 180_000;
/** The fake camera's own GenICam description (its TriggerMode register is at 0x300), from the installed Aravis. */
const DUMP_XML = [
  '-c',
  "import gi; gi.require_version('Aravis', '0.8'); from gi.repository import Aravis; Aravis.enable_interface('Fake'); " +
    "import sys; sys.stdout.write(Aravis.Camera.new('Fake_1').get_device().get_genicam_xml()[0])",
];
const TRIGGER_MODE_REGISTER = '<IntReg Name="TriggerModeRegister" NameSpace="Custom">\n\t\t<Address>0x300</Address>';
/** A register the fake device keeps but never reads. */
const UNUSED_REGISTER = '0x3f0';

export interface FakeGvCameraOptions {
  /**
   * `frame-clock`: Line0 is wired to a pulse generator running at the camera's frame rate (25 Hz
   * unless changed), so `TriggerMode On, TriggerSource Line0` yields one frame per pulse. The fake
   * device has no line input of its own (no LineSelector/LineStatus/UserOutput features; with
   * TriggerMode On it sends a frame only when TriggerSource is Software and TriggerSoftware is
   * written, and it refuses register writes from anyone but its controller), so the GenICam
   * description given to it (`-g`) keeps every feature but moves TriggerMode's register to one the
   * device ignores: the camera reads back TriggerMode On, Line0, RisingEdge, and runs on its clock.
   * Software triggering does not work on such a camera.
   */
  readonly line0?: 'frame-clock';
}

/**
 * Aravis's simulated GigE Vision camera (`arv-fake-gv-camera-0.8`, Debian aravis-tools) on
 * 127.0.0.1: vendor "Aravis", model "Fake", a 2048x2048 sensor with Mono8, RGB8, Bayer and Mono16,
 * trigger sources Line0 and Software. It answers on the GigE Vision control port 3956, so only one
 * can run on the machine (loopback addresses other than 127.0.0.1 are refused by it: "Failed to
 * start camera"). Its settings live as long as the process: a test that changes the ROI leaves it
 * for the next, as a real camera keeps its registers. `line0: 'frame-clock'` gives it a light barrier
 * on Line0 for hardware-trigger tests (see FakeGvCameraOptions).
 */
export class FakeGvCamera {
  private child: ChildProcess | undefined;
  private locked = false;
  readonly address = '127.0.0.1';

  private xmlDir: string | undefined;

  constructor(
    readonly serial = 'LKTEST01',
    private readonly options: FakeGvCameraOptions = {},
  ) {}

  /** Starts the camera and resolves once it answers a GVCP discovery (GigE Vision 2.0, §16.1.1). */
  async start(): Promise<void> {
    if (!this.locked) await this.lock();
    const args = ['-i', this.address, '-s', this.serial];
    if (this.options.line0 === 'frame-clock') args.push('-g', await this.lineClockXml());
    const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-2_000)));
    child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-2_000)));
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code) => reject(new Error(`fake GigE Vision camera exited (${code}): ${output.trim()} (is another one running on port ${GVCP_PORT}?)`)));
    });
    exited.catch(() => undefined);
    await Promise.race([this.answersDiscovery(15_000), exited]);
  }

  /** Stops the camera and lets the next test file have it. */
  async release(): Promise<void> {
    await this.stop();
    if (this.locked) await rm(LOCK, { recursive: true, force: true });
    this.locked = false;
    if (this.xmlDir) await rm(this.xmlDir, { recursive: true, force: true });
    this.xmlDir = undefined;
  }

  /** The fake camera's description with TriggerMode moved to an unused register (see FakeGvCameraOptions). */
  private async lineClockXml(): Promise<string> {
    this.xmlDir ??= await mkdtemp(join(tmpdir(), 'lookout-fake-gv-'));
    const file = join(this.xmlDir, 'line0-frame-clock.xml');
    const xml = await new Promise<string>((resolve, reject) => {
      execFile('/usr/bin/python3', DUMP_XML, { maxBuffer: 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    if (!xml.includes(TRIGGER_MODE_REGISTER)) throw new Error('the fake camera\'s GenICam description has changed: TriggerModeRegister is not at 0x300');
    await writeFile(file, xml.replace(TRIGGER_MODE_REGISTER, TRIGGER_MODE_REGISTER.replace('0x300', UNUSED_REGISTER)));
    return file;
  }

  /** Takes the machine-wide turn (a directory made atomically), taking over one whose holder died. */
  private async lock(): Promise<void> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await mkdir(LOCK);
        await writeFile(join(LOCK, 'pid'), String(process.pid));
        this.locked = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = Number(await readFile(join(LOCK, 'pid'), 'utf8').catch(() => ''));
      if (holder > 0 && !alive(holder)) await rm(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the fake GigE Vision camera stayed taken (${LOCK}) for ${LOCK_WAIT_MS} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGSTOP freezes the camera with its socket open (a hung camera); SIGCONT thaws it. */
  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    this.child?.kill(sig);
  }

  /** Kills the camera (it "disappears": no more GVCP answers, the stream stops); the turn is kept. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }

  /** Sends DISCOVERY_CMD (0x0002) every 100 ms until a DISCOVERY_ACK (0x0003) comes back. */
  private answersDiscovery(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = createSocket('udp4');
      // key 0x42, flags 0x01 (acknowledge), command 0x0002, length 0, request id 1
      const command = Buffer.from([0x42, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01]);
      const send = (): void => socket.send(command, GVCP_PORT, this.address, () => undefined);
      const timer = setInterval(send, 100);
      const deadline = setTimeout(() => finish(new Error(`fake GigE Vision camera did not answer within ${timeoutMs} ms`)), timeoutMs);
      const finish = (err?: Error): void => {
        clearInterval(timer);
        clearTimeout(deadline);
        socket.close();
        if (err) reject(err);
        else resolve();
      };
      socket.on('message', (msg) => {
        if (msg.length >= 4 && msg.readUInt16BE(2) === 0x0003) finish();
      });
      socket.on('error', (err) => finish(err));
      socket.bind(0, this.address, send);
    });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
