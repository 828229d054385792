import { LookoutError } from '../../core/errors.js';
import type { OnvifSourceConfig } from '../../config/slices/sources.js';
import type { FrameSource, FrameSourceDeps } from '../frame-source.js';
import type { BackoffPolicy } from '../../core/backoff.js';
import { SnapshotFetcher, redactUrl, splitCredentials } from '../http/snapshot-fetcher.js';
import { SnapshotSource } from '../http/snapshot-source.js';
import { RtspSource } from '../rtsp/rtsp-source.js';
import type { OnvifDevices } from './onvif-devices.js';
import { OnvifResolver } from './onvif-endpoint.js';

export interface OnvifSourceDeps extends FrameSourceDeps {
  readonly cameraId: string;
  readonly backoff: BackoffPolicy;
  readonly config: OnvifSourceConfig;
  readonly devices: OnvifDevices;
  /** Stream mode: have ffmpeg deliver frames at this size (see RtspSourceDeps.scaleTo). */
  readonly scaleTo?: { readonly width: number; readonly height: number };
}

/** Defaults for the stream mode's ffmpeg (the onvif slice has no rtsp options). */
const STREAM_DEFAULTS = { transport: 'tcp', fps: 2, stallTimeoutMs: 10_000, ffmpegPath: 'ffmpeg' } as const;

/**
 * An ONVIF camera is an http snapshot source or an rtsp source whose URL comes from the device.
 * The device is asked again (a new connection, never a second init()) after each failure.
 */
export function createOnvifSource(deps: OnvifSourceDeps): FrameSource {
  const { config } = deps;
  const resolver = new OnvifResolver(config, deps.log, deps.devices);
  const common = { onFrame: deps.onFrame, freeRunning: deps.freeRunning, log: deps.log, cameraId: deps.cameraId, backoff: deps.backoff };
  if (config.mode === 'stream') {
    return new RtspSource({
      ...common,
      config: { ...STREAM_DEFAULTS, stallTimeoutMs: Math.max(STREAM_DEFAULTS.stallTimeoutMs, config.timeoutMs), ...(config.auth ? { auth: config.auth } : {}) },
      ...(deps.scaleTo ? { scaleTo: deps.scaleTo } : {}),
      endpoint: {
        resolve: async () => {
          const info = await resolver.resolve();
          if (!info.streamUri) throw new LookoutError('SOURCE_PROTOCOL', `ONVIF profile "${info.name}" has no RTSP stream URI`);
          return info.streamUri;
        },
        reset: () => resolver.reset(),
      },
    });
  }
  return new SnapshotSource({
    ...common,
    intervalMs: config.intervalMs,
    endpoint: {
      connect: async () => {
        const info = await resolver.resolve();
        if (!info.snapshotUri) throw new LookoutError('SOURCE_PROTOCOL', `ONVIF profile "${info.name}" has no snapshot URI`);
        const target = splitCredentials(info.snapshotUri);
        const auth = config.auth ? { username: config.auth.username, password: config.auth.password } : target.auth;
        const fetcher = new SnapshotFetcher({ url: target.url, ...(auth ? { auth } : {}) }, { timeoutMs: config.timeoutMs, maxBytes: config.maxBytes });
        return { fetcher, origin: redactUrl(target.url) };
      },
      reset: () => resolver.reset(),
    },
  });
}
