import { LookoutError } from './errors.js';

/** IoT Core refuses payloads of 128 KiB and more; we never try. */
export const MAX_PAYLOAD_BYTES = 128 * 1024;
/** IoT Core topic limits: 256 bytes and at most 7 forward slashes. */
export const MAX_TOPIC_BYTES = 256;
export const MAX_TOPIC_SLASHES = 7;

/**
 * The one place that decides whether a message may be published at all: every path (outbox,
 * publishers, reject signals) calls it. Throws PAYLOAD_INVALID with a reason a person can act on.
 */
export function assertPublishable(topic: string, payload: unknown): asserts payload is Buffer {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new LookoutError('PAYLOAD_INVALID', 'message has no topic');
  }
  if (Buffer.byteLength(topic) > MAX_TOPIC_BYTES) {
    throw new LookoutError('PAYLOAD_INVALID', `topic is ${Buffer.byteLength(topic)} bytes; the limit is ${MAX_TOPIC_BYTES}`, { details: { topic: topic.slice(0, 64) } });
  }
  const slashes = topic.split('/').length - 1;
  if (slashes > MAX_TOPIC_SLASHES) {
    throw new LookoutError('PAYLOAD_INVALID', `topic "${topic}" has ${slashes} slashes; IoT Core allows ${MAX_TOPIC_SLASHES} (shorten publish.topicPrefix)`, { details: { topic } });
  }
  if (/[#+]/.test(topic) || topic.includes('\0')) {
    throw new LookoutError('PAYLOAD_INVALID', `topic "${topic}" contains a wildcard or NUL; publish topics must be literal`, { details: { topic } });
  }
  if (!Buffer.isBuffer(payload)) {
    throw new LookoutError('PAYLOAD_INVALID', `payload for ${topic} is not a byte buffer`, { details: { topic } });
  }
  assertPayloadSize(payload.length, `payload for ${topic}`);
}

/** The size rule alone (payload builders call it before a topic is known). */
export function assertPayloadSize(bytes: number, what: string): void {
  if (bytes >= MAX_PAYLOAD_BYTES) {
    throw new LookoutError('PAYLOAD_INVALID', `${what} is ${bytes} bytes; IoT Core refuses ${MAX_PAYLOAD_BYTES} bytes and more`, {
      details: { bytes, limit: MAX_PAYLOAD_BYTES },
    });
  }
}
