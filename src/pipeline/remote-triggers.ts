import { z } from 'zod';
import { toLookoutError } from '../core/errors.js';
import { PART_ID_PATTERN, PART_ID_RULE } from '../core/frame.js';
import type { InspectorControl } from '../core/inspector-status.js';
import type { Logger } from '../core/log.js';
import type { Subscriber } from '../publish/subscriber.js';

const MAX_TRIGGER_BYTES = 4096;
const triggerSchema = z.strictObject({ partId: z.string().regex(PART_ID_PATTERN, PART_ID_RULE).optional() }).prefault({});

/**
 * PLC triggers over MQTT (or Greengrass pub/sub): a message on `<base>/<camera>/trigger` with
 * `{"partId": "1234"}` (or an empty body) inspects one frame of that camera; the verdict for part 1234
 * goes out on the camera's verdict (and reject) topics like any other. One subscription to
 * `<base>/+/trigger` serves every camera, so cameras added by a live configuration update take triggers
 * at once; `acceptsTriggers` is asked on each message. Malformed or unwanted triggers are logged and
 * dropped; nothing here throws but the subscription itself (SUBSCRIBE_FAILED).
 */
export async function subscribeTriggers(deps: {
  subscriber: Subscriber;
  /** Topics.triggers(): the filter and the camera a topic names. */
  topics: { readonly filter: string; cameraOf(topic: string): string | undefined };
  acceptsTriggers: (cameraId: string) => boolean;
  inspector: Pick<InspectorControl, 'inspectNow'>;
  log: Logger;
}): Promise<() => Promise<void>> {
  return deps.subscriber.subscribe(deps.topics.filter, (topic, payload) => {
    const cameraId = deps.topics.cameraOf(topic);
    if (cameraId === undefined || !deps.acceptsTriggers(cameraId)) {
      deps.log.warn({ camera: cameraId }, 'trigger ignored: no such camera, or it does not take triggers');
      return;
    }
    const parsed = parseTrigger(payload);
    if (!parsed.ok) {
      deps.log.warn({ camera: cameraId, problem: parsed.problem }, 'trigger ignored');
      return;
    }
    deps.inspector.inspectNow(cameraId, parsed.partId).catch((err: unknown) => {
      deps.log.warn({ camera: cameraId, partId: parsed.partId, err: toLookoutError(err).toJSON() }, 'trigger not served');
    });
  });
}

export function parseTrigger(payload: Buffer): { ok: true; partId?: string } | { ok: false; problem: string } {
  if (payload.length > MAX_TRIGGER_BYTES) return { ok: false, problem: `payload over ${MAX_TRIGGER_BYTES} bytes` };
  let json: unknown = {};
  if (payload.length > 0) {
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return { ok: false, problem: 'payload is not JSON' };
    }
  }
  const result = triggerSchema.safeParse(json);
  if (!result.success) return { ok: false, problem: result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
  return result.data.partId === undefined ? { ok: true } : { ok: true, partId: result.data.partId };
}
