import { z } from 'zod';
import { byteSize, durationMs, identifier, positiveInt, secret } from './common.js';
import { decideOverrideSchema } from './decide.js';
import { preprocessSchema } from './preprocess.js';

const credentials = z.strictObject({ username: z.string().min(1).max(256), password: secret });

const backoff = z
  .strictObject({
    initialMs: durationMs.default(500),
    maxMs: durationMs.default(30_000),
  })
  .prefault({});

export const folderSourceSchema = z.strictObject({
  type: z.literal('folder'),
  path: z.string().min(1),
  /** Where inputs go once handled; defaults to `<path>/processed` and `<path>/failed`. */
  processedDir: z.string().min(1).optional(),
  failedDir: z.string().min(1).optional(),
  /** A file is read only once its size has not changed for this long. */
  settleMs: durationMs.default(200),
  extensions: z.array(z.string().regex(/^\.[a-z0-9]+$/)).default(['.jpg', '.jpeg', '.png']),
  /** Replay mode for demos: loop over the folder's images forever at `intervalMs`, never moving them. */
  replay: z.boolean().default(false),
  intervalMs: durationMs.default(1_000),
  /** A listing, read or move that takes longer marks the camera stalled (a hung mount, a wedged worker thread). */
  stallTimeoutMs: durationMs.min(100).default(10_000),
});

export const httpSourceSchema = z.strictObject({
  type: z.literal('http'),
  url: z.url(),
  intervalMs: durationMs.default(1_000),
  timeoutMs: durationMs.default(5_000),
  maxBytes: byteSize.default(32 * 1024 * 1024),
  auth: credentials.extend({ scheme: z.enum(['basic', 'digest']).default('digest') }).optional(),
});

export const onvifSourceSchema = z.strictObject({
  type: z.literal('onvif'),
  /** Device service address; when absent the camera is found by WS-Discovery (first match of `match`). */
  xaddr: z.url().optional(),
  match: z.string().optional(),
  profile: z.string().optional(),
  mode: z.enum(['snapshot', 'stream']).default('snapshot'),
  intervalMs: durationMs.default(1_000),
  timeoutMs: durationMs.default(5_000),
  maxBytes: byteSize.default(32 * 1024 * 1024),
  auth: credentials.optional(),
});

export const rtspSourceSchema = z.strictObject({
  type: z.literal('rtsp'),
  url: z.string().regex(/^rtsps?:\/\//, 'an rtsp:// URL'),
  transport: z.enum(['tcp', 'udp']).default('tcp'),
  fps: z.number().positive().max(120).default(2),
  stallTimeoutMs: durationMs.default(10_000),
  ffmpegPath: z.string().default('ffmpeg'),
  auth: credentials.optional(),
});

const genicamAcquisition = z.discriminatedUnion('mode', [
  /** The camera runs at its own (or `fps`) rate; the pipeline keeps the newest frame. */
  z.strictObject({ mode: z.literal('free') }),
  /** A line input (light barrier, PLC output) triggers each frame: one frame is one part, none is dropped silently. */
  z.strictObject({
    mode: z.literal('hardware'),
    line: z.string().regex(/^Line\d{1,2}$/, 'a GenICam line: Line0, Line1 …'),
    activation: z.enum(['RisingEdge', 'FallingEdge', 'AnyEdge', 'LevelHigh', 'LevelLow']).default('RisingEdge'),
    /**
     * Part ids announced by our triggers (PLC, MQTT `<camera>/trigger {"partId"}`, HTTP) as the line fires
     * wait this long for their frame, oldest first; an older one is dropped (PART_ID_EXPIRED). Keep it
     * shorter than the time between two parts, so that a missed edge costs one part id, not a shift.
     */
    partIdMaxAgeMs: durationMs.min(1).default(5_000),
    /** Announced part ids waiting at once; one more is refused (QUEUE_FULL). */
    partIdQueueSize: positiveInt.max(10_000).default(64),
  }),
  /** Our triggers (MQTT, HTTP, PLC) fire the camera's software trigger; needs `trigger.enabled`. */
  z.strictObject({ mode: z.literal('software') }),
]);

export const genicamSourceSchema = z.strictObject({
  type: z.literal('genicam'),
  /** The camera's serial number (found by discovery), or */
  serial: z.string().min(1).max(128).optional(),
  /** its address (a GigE Vision IP) or Aravis device id. One of serial and address is required. */
  address: z.string().min(1).max(256).optional(),
  /** GenICam name; Bayer is demosaiced to RGB by us, Mono8 goes to the model as grey RGB, Mono10/12/16 scaled to 8 bits first. */
  pixelFormat: z.enum(['Mono8', 'Mono10', 'Mono12', 'Mono16', 'RGB8', 'BayerRG8', 'BayerBG8', 'BayerGB8', 'BayerGR8']).default('Mono8'),
  /** The sensor region the camera sends (its own ROI, before ours in `preprocess.roi`). */
  roi: z.strictObject({ x: z.number().int().min(0), y: z.number().int().min(0), width: positiveInt, height: positiveInt }).optional(),
  exposureUs: z.number().positive().optional(),
  gainDb: z.number().min(0).optional(),
  /** Frame rate in free-running mode; the camera's own setting when absent. */
  fps: z.number().positive().max(1_000).optional(),
  /** GigE Vision stream packet size (bytes) and inter-packet delay (ns), for a busy network or switch. */
  packetSize: z.number().int().min(576).max(16_384).optional(),
  packetDelayNs: z.number().int().min(0).max(1_000_000_000).optional(),
  acquisition: genicamAcquisition.prefault({ mode: 'free' }),
  /** No frame (free running) or no worker heartbeat (triggered) for this long restarts the camera. */
  stallTimeoutMs: durationMs.min(100).default(10_000),
  /** How long a software trigger waits for its frame. */
  triggerTimeoutMs: durationMs.min(10).default(2_000),
  /** The largest frame the worker may send; more is SOURCE_PROTOCOL. */
  maxFrameBytes: byteSize.default(64 * 1024 * 1024),
  /** A Python with Aravis's GObject bindings (Debian: python3-gi, gir1.2-aravis-0.8). */
  pythonPath: z.string().min(1).default('/usr/bin/python3'),
});

export const sourceSchema = z.discriminatedUnion('type', [folderSourceSchema, httpSourceSchema, onvifSourceSchema, rtspSourceSchema, genicamSourceSchema]);

export const triggerSchema = z.strictObject({
  /** Capture only when a trigger arrives (MQTT message on the camera's trigger topic, or HTTP POST). */
  enabled: z.boolean().default(true),
  queueSize: positiveInt.max(10_000).default(64),
  /** Queue fill fraction at which the alarm is raised. */
  alarmAt: z.number().gt(0).max(1).default(0.8),
});

export const cameraSchema = z.strictObject({
  id: identifier,
  enabled: z.boolean().default(true),
  source: sourceSchema,
  trigger: triggerSchema.optional(),
  backoff,
  preprocess: preprocessSchema,
  /** Per-camera override of the inspector's model component. */
  modelComponent: z.string().optional(),
  /** Overrides of the inspector-wide verdict rules for this camera. */
  decide: decideOverrideSchema.optional(),
  /**
   * Bytes this camera's frames may hold while in flight (the frame as read plus its preprocessed image):
   * the next frames are decoded while one is at the model and one is being delivered. One frame always
   * goes, however large. 4 MiB is four 1080p JPEGs at a 512x384 model input.
   */
  prefetchBytes: byteSize.max(1024 * 1024 * 1024).default(4 * 1024 * 1024),
}).superRefine(checkGenicamCamera);
export type CameraConfig = z.infer<typeof cameraSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;

export const camerasSchema = z
  .array(cameraSchema)
  .max(64)
  .default([])
  .refine((cams) => new Set(cams.map((c) => c.id)).size === cams.length, 'camera ids must be unique');
export type FolderSourceConfig = z.infer<typeof folderSourceSchema>;
export type HttpSourceConfig = z.infer<typeof httpSourceSchema>;
export type OnvifSourceConfig = z.infer<typeof onvifSourceSchema>;
export type RtspSourceConfig = z.infer<typeof rtspSourceSchema>;
export type GenicamSourceConfig = z.infer<typeof genicamSourceSchema>;

/**
 * A camera fired by its own line (GenICam hardware trigger) takes triggers that carry a part id: each
 * announces the id of a part the line fires, paired with the next triggered frame.
 */
export function takesPartIdAnnouncements(camera: { readonly source: { readonly type: string } }): boolean {
  return camera.source.type === 'genicam' && (camera.source as GenicamSourceConfig).acquisition.mode === 'hardware';
}

/** A GenICam camera names itself once; software-triggered ones need our triggers, hardware-triggered ones must not wait for them. */
function checkGenicamCamera(camera: { source: { type: string }; trigger?: { enabled: boolean } | undefined }, ctx: z.RefinementCtx): void {
  if (camera.source.type !== 'genicam') return;
  const source = camera.source as GenicamSourceConfig;
  if ((source.serial === undefined) === (source.address === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['source'], message: 'a genicam source needs exactly one of serial and address' });
  }
  const triggered = camera.trigger?.enabled === true;
  if (source.acquisition.mode === 'software' && !triggered) {
    ctx.addIssue({ code: 'custom', path: ['trigger'], message: 'software-triggered acquisition needs trigger.enabled (frames are taken on our triggers)' });
  }
  if (source.acquisition.mode === 'hardware' && triggered) {
    ctx.addIssue({ code: 'custom', path: ['trigger'], message: 'hardware-triggered acquisition delivers its own frames: leave trigger disabled' });
  }
}
