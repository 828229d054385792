import type { Frame } from '../../core/frame.js';

export function encodedFrame(id: string, cameraId: string, capturedAt: number, bytes: Buffer, origin: string, partId?: string): Frame {
  return { id, cameraId, capturedAt, data: { kind: 'encoded', bytes }, origin, ...(partId !== undefined ? { partId } : {}) };
}

/**
 * Gives a frame to the pipeline without letting its failure reach the source: a throw or a rejected
 * promise is logged. Returns the promise (settled, never rejecting) with the outcome.
 */
export async function handOff(onFrame: (frame: Frame) => void | Promise<unknown>, frame: Frame, log: { warn: (obj: object, msg: string) => void }): Promise<boolean> {
  try {
    await onFrame(frame);
    return true;
  } catch (err) {
    log.warn({ frameId: frame.id, err: err instanceof Error ? err.message : String(err) }, 'pipeline rejected a frame');
    return false;
  }
}
