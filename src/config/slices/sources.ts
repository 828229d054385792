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

export const sourceSchema = z.discriminatedUnion('type', [folderSourceSchema, httpSourceSchema, onvifSourceSchema, rtspSourceSchema]);

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
});
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
