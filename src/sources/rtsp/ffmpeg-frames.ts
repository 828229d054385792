import { spawn, type ChildProcess } from 'node:child_process';
import { LookoutError } from '../../core/errors.js';
import { PpmStreamParser, type RgbFrame } from './ppm-stream-parser.js';
import { redactText } from './rtsp-url.js';

export interface FfmpegFramesOptions {
  readonly ffmpegPath: string;
  /** Never with credentials: a camera that asks for them is opened through rtsp-auth-relay.ts. */
  readonly url: string;
  readonly transport: 'tcp' | 'udp';
  readonly fps: number;
  readonly stallTimeoutMs: number;
  /**
   * Frames are scaled to this size by ffmpeg (lanczos, as sharp resizes) while it converts them to
   * RGB: a 1080p stream then crosses the pipe at the model's size, and the preprocessor has nothing
   * left to do. Only for plain fill resizes (no ROI); see scaled() in create-frame-source.ts.
   */
  readonly scaleTo?: { readonly width: number; readonly height: number };
  readonly signal: AbortSignal;
  readonly onFrame: (frame: RgbFrame) => void;
}

const STDERR_TAIL = 4_096;
/**
 * Extra time allowed for the first frame: RTSP setup plus ffmpeg's stream probing take seconds even
 * on loopback, more on a busy device or a far camera.
 */
export const FIRST_FRAME_GRACE_MS = 10_000;
const KILL_GRACE_MS = 2_000;

/** The ffmpeg command line: RTSP in, N decoded frames a second out as a PPM stream on stdout. */
export function ffmpegArgs(o: Pick<FfmpegFramesOptions, 'url' | 'transport' | 'fps' | 'stallTimeoutMs' | 'scaleTo'>): string[] {
  return [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    '-rtsp_transport',
    o.transport,
    // socket I/O timeout (µs): a backstop only, longer than our own watchdog so that a hung
    // camera is reported as a stall (SOURCE_STALLED) by the watchdog, not as an ffmpeg exit
    '-timeout',
    String((Math.max(1, o.stallTimeoutMs) * 2 + FIRST_FRAME_GRACE_MS) * 1000),
    '-i',
    o.url,
    '-an',
    '-sn',
    '-dn',
    '-vf',
    o.scaleTo ? `fps=${o.fps},scale=${o.scaleTo.width}:${o.scaleTo.height}:flags=lanczos` : `fps=${o.fps}`,
    '-pix_fmt',
    'rgb24',
    '-f',
    'image2pipe',
    '-c:v',
    'ppm',
    'pipe:1',
  ];
}

/**
 * Runs one ffmpeg child until it fails, stalls (no frame for stallTimeoutMs: killed, rejects
 * SOURCE_STALLED) or the signal aborts (killed, resolves). stderr is kept (last 4 KiB, URLs'
 * credentials removed) for the error message.
 */
export function runFfmpegFrames(o: FfmpegFramesOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (o.signal.aborted) return resolve();
    let child: ChildProcess;
    try {
      child = spawn(o.ffmpegPath, ffmpegArgs(o), { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      return reject(new LookoutError('SOURCE_UNAVAILABLE', `cannot start ffmpeg: ${(err as Error).message}`, { cause: err }));
    }
    const parser = new PpmStreamParser();
    const started = Date.now();
    let stderr = '';
    // the first frame may take longer: pretend the last one came a grace period in the future
    let lastFrameAt = Date.now() + FIRST_FRAME_GRACE_MS;
    let outcome: { error?: LookoutError } | undefined;
    let exited = false;

    const kill = (): void => {
      if (exited) return;
      child.kill('SIGTERM');
      setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, KILL_GRACE_MS).unref();
    };
    const finish = (error?: LookoutError): void => {
      if (outcome) return;
      outcome = error ? { error } : {};
      clearInterval(watchdog);
      o.signal.removeEventListener('abort', onAbort);
      kill();
    };
    const onAbort = (): void => finish();

    const watchdog = setInterval(
      () => {
        if (Date.now() - lastFrameAt > o.stallTimeoutMs) {
          finish(new LookoutError('SOURCE_STALLED', lastFrameAt > started ? `no frame for ${o.stallTimeoutMs} ms` : `no first frame within ${o.stallTimeoutMs + FIRST_FRAME_GRACE_MS} ms`, { details: { stderr: tail() } }));
        }
      },
      Math.max(20, Math.min(1_000, Math.floor(o.stallTimeoutMs / 4))),
    );
    o.signal.addEventListener('abort', onAbort, { once: true });

    const tail = (): string => redactText(stderr.trim()).slice(-STDERR_TAIL);

    child.stdout?.on('data', (chunk: Buffer) => {
      if (outcome) return;
      let frames: RgbFrame[];
      try {
        frames = parser.push(chunk);
      } catch (err) {
        finish(err as LookoutError);
        return;
      }
      for (const frame of frames) {
        lastFrameAt = Date.now();
        o.onFrame(frame);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2 * STDERR_TAIL);
    });
    child.on('error', (err) => {
      finish(new LookoutError('SOURCE_UNAVAILABLE', `ffmpeg failed to run: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, sig) => {
      exited = true;
      if (!outcome) {
        const last = tail().split('\n').at(-1) ?? '';
        finish(new LookoutError('SOURCE_UNAVAILABLE', `ffmpeg exited (${sig ?? code})${last ? `: ${last}` : ''}`, { details: { stderr: tail() } }));
      }
      clearInterval(watchdog);
      if (outcome?.error) reject(outcome.error);
      else resolve();
    });
  });
}
