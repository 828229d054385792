/** Inbound messages (triggers, remote commands) from a transport that can subscribe. */
export interface Subscriber {
  /** Subscribes with QoS 1; the handler must not throw (it is wrapped anyway). Resolves with an unsubscribe. */
  subscribe(topicFilter: string, handler: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}

export function canSubscribe<T extends object>(transport: T): transport is T & Subscriber {
  return typeof (transport as Partial<Subscriber>).subscribe === 'function';
}
