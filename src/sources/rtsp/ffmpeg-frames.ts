import { superviseChild } from '../core/supervised-child.js';
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

/**
 * Extra time allowed for the first frame: RTSP setup plus ffmpeg's stream probing take seconds even
 * on loopback, more on a busy device or a far camera.
 */
export const FIRST_FRAME_GRACE_MS = 10_000;

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
 * SOURCE_STALLED) or the signal aborts (killed, resolves). stderr is kept (URLs' credentials
 * removed) for the error message.
 */
export function runFfmpegFrames(o: FfmpegFramesOptions): Promise<void> {
  const parser = new PpmStreamParser();
  return superviseChild({
    command: o.ffmpegPath,
    args: ffmpegArgs(o),
    name: 'ffmpeg',
    stdin: 'ignore',
    stallTimeoutMs: o.stallTimeoutMs,
    firstGraceMs: FIRST_FRAME_GRACE_MS,
    firstStallMessage: `no first frame within ${o.stallTimeoutMs + FIRST_FRAME_GRACE_MS} ms`,
    stopping: { killGraceMs: 2_000 },
    redact: redactText,
    signal: o.signal,
    onStdout: (chunk, life) => {
      for (const frame of parser.push(chunk)) {
        life.alive();
        o.onFrame(frame);
      }
    },
  }).done;
}
