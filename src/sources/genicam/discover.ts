import { LookoutError } from '../../core/errors.js';
import { startArvWorker } from './arv-worker.js';

/** A camera as Aravis's discovery reports it (GigE Vision broadcast, USB3 Vision enumeration). */
export interface DiscoveredGenicamCamera {
  /** Aravis's device id: usable as `source.address`. */
  readonly id: string;
  readonly vendor: string;
  readonly model: string;
  readonly serial: string;
  /**
   * What `source.address` takes: a GigE Vision camera's IP; for a USB3 Vision one (Aravis has no address
   * for it) its device id.
   */
  readonly address: string;
  /** `GigEVision` or `USB3Vision`. */
  readonly protocol: string;
}

export interface DiscoverOptions {
  readonly pythonPath: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Lists the GenICam cameras reachable from this machine, through the Aravis worker. */
export async function discoverGenicamCameras(o: DiscoverOptions): Promise<DiscoveredGenicamCamera[]> {
  let cameras: DiscoveredGenicamCamera[] | undefined;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  o.signal?.addEventListener('abort', stop, { once: true });
  try {
    await startArvWorker({
      pythonPath: o.pythonPath,
      args: ['discover'],
      stallTimeoutMs: o.timeoutMs,
      firstRecordGraceMs: 0,
      framesOnly: false,
      maxFrameBytes: 0,
      signal: controller.signal,
      onMessage: (body) => {
        if (body.type !== 'cameras' || !Array.isArray(body.cameras)) return;
        cameras = body.cameras as DiscoveredGenicamCamera[];
      },
      onFrame: () => undefined,
    }).done.catch((err: unknown) => {
      // the worker exits after its one answer
      if (!cameras) throw err;
    });
  } finally {
    o.signal?.removeEventListener('abort', stop);
  }
  if (!cameras) throw new LookoutError('SOURCE_UNAVAILABLE', 'GenICam discovery gave no answer');
  return cameras;
}
