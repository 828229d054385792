import type { CameraConfig } from '../config/slices/sources.js';
import type * as OnvifDeviceAdapter from './adapters/onvif-device.js';
import { FolderSource } from './folder/folder-source.js';
import { ReplaySource } from './folder/replay-source.js';
import type { FrameSource, FrameSourceDeps } from './frame-source.js';
import { SnapshotFetcher, redactUrl, splitCredentials } from './http/snapshot-fetcher.js';
import { SnapshotSource } from './http/snapshot-source.js';
import { GenicamSource } from './genicam/genicam-source.js';
import type { OnvifDevices } from './onvif/onvif-devices.js';
import { createOnvifSource } from './onvif/onvif-source.js';
import { RtspSource, fixedStream } from './rtsp/rtsp-source.js';

/** node-onvif-ts is loaded by the first ONVIF camera, not by every inspector (its memory is paid only then). */
let onvifAdapter: Promise<typeof OnvifDeviceAdapter> | undefined;
const loadOnvifAdapter = () => (onvifAdapter ??= import('./adapters/onvif-device.js'));
const onvifDevices: OnvifDevices = {
  connect: async (options) => (await loadOnvifAdapter()).connectOnvifDevice(options),
  discover: async (timeoutMs) => (await loadOnvifAdapter()).discoverOnvifDevices(timeoutMs),
};

/**
 * Builds the source a camera's config describes. Nothing runs until `start()`.
 * A `folder` source (not replay) is a FolderSource: the pipeline may call `markFailed(frameId)`.
 */
export function createFrameSource(camera: CameraConfig, deps: FrameSourceDeps): FrameSource {
  const common = { ...deps, cameraId: camera.id, backoff: camera.backoff };
  const source = camera.source;
  switch (source.type) {
    case 'folder':
      return source.replay
        ? new ReplaySource({ ...common, config: source, maxBytes: camera.preprocess.maxInputBytes })
        : new FolderSource({ ...common, config: source, maxBytes: camera.preprocess.maxInputBytes });
    case 'http': {
      const target = splitCredentials(source.url);
      const auth = source.auth ? { username: source.auth.username, password: source.auth.password, scheme: source.auth.scheme } : target.auth;
      const fetcher = new SnapshotFetcher({ url: target.url, ...(auth ? { auth } : {}) }, { timeoutMs: source.timeoutMs, maxBytes: source.maxBytes });
      const origin = redactUrl(target.url);
      return new SnapshotSource({ ...common, intervalMs: source.intervalMs, endpoint: { connect: () => Promise.resolve({ fetcher, origin }) } });
    }
    case 'onvif':
      return createOnvifSource({ ...common, config: source, devices: onvifDevices, ...scaled(camera) });
    case 'rtsp':
      return new RtspSource({ ...common, config: source, endpoint: fixedStream(source.url), ...scaled(camera) });
    case 'genicam':
      return new GenicamSource({ ...common, config: source });
  }
}

/**
 * Decoded streams (ffmpeg) are scaled to the model's input by ffmpeg itself when preprocessing is a
 * plain fill resize: no ROI (it needs the full frame) and no letterboxing. The preprocessor then passes
 * such frames through untouched, and the verdict's source size is the scaled one.
 */
function scaled(camera: CameraConfig): { scaleTo?: { width: number; height: number } } {
  const { roi, width, height, resize } = camera.preprocess;
  return !roi && width !== undefined && height !== undefined && resize === 'fill' ? { scaleTo: { width, height } } : {};
}

/** The folder source's extra: move an already processed input to failed/. */
export function canMarkFailed(source: FrameSource): source is FrameSource & { markFailed(frameId: string): Promise<boolean> } {
  return typeof (source as { markFailed?: unknown }).markFailed === 'function';
}
