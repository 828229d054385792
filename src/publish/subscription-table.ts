import type { Logger } from '../core/log.js';

type Handler = (topic: string, payload: Buffer) => void;

/**
 * The handlers of one MQTT connection by topic filter: the publishers keep their subscriptions here so
 * they can subscribe again after a reconnection (clean sessions) and route each message. A handler that
 * throws is logged and does not stop the others.
 */
export class SubscriptionTable {
  private readonly handlers = new Map<string, Set<Handler>>();

  /** Adds a handler; true when the filter is new (the caller subscribes on the broker). */
  add(filter: string, handler: Handler): boolean {
    const set = this.handlers.get(filter);
    if (set) {
      set.add(handler);
      return false;
    }
    this.handlers.set(filter, new Set([handler]));
    return true;
  }

  /** Removes a handler; true when the filter has no handler left (the caller unsubscribes). */
  remove(filter: string, handler: Handler): boolean {
    const set = this.handlers.get(filter);
    if (!set?.delete(handler) || set.size > 0) return false;
    this.handlers.delete(filter);
    return true;
  }

  filters(): string[] {
    return [...this.handlers.keys()];
  }

  dispatch(topic: string, payload: Buffer, log: Logger): void {
    for (const [filter, set] of this.handlers) {
      if (!matches(filter, topic)) continue;
      for (const handler of set) {
        try {
          handler(topic, payload);
        } catch (err) {
          log.error({ topic, error: (err as Error).message }, 'message handler failed');
        }
      }
    }
  }
}

/** MQTT topic filter matching with `+` and `#`. */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
