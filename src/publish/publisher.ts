export interface PublishOptions {
  readonly qos: 0 | 1;
  readonly retain?: boolean;
}

/**
 * One transport to a broker (Greengrass IPC, MQTT 5). publish() resolves only when the transport
 * acknowledged the message (PUBACK, or the nucleus's answer) and rejects with a LookoutError otherwise.
 */
export interface Publisher {
  readonly name: string;
  start(): Promise<void>;
  stop(reason?: string): Promise<void>;
  publish(topic: string, payload: Buffer, options: PublishOptions): Promise<void>;
  isConnected(): boolean;
  /** Tells when the transport comes up or goes down (the relay retries at once on reconnection). */
  onConnectionChange?(listener: (connected: boolean) => void): () => void;
}

/** Resolves true once the publisher is connected, false after `ms`. */
export function waitConnected(publisher: Publisher, ms: number): Promise<boolean> {
  if (publisher.isConnected() || !publisher.onConnectionChange) return Promise.resolve(publisher.isConnected());
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(false);
    }, ms);
    const off = publisher.onConnectionChange?.((up) => {
      if (!up) return;
      clearTimeout(timer);
      off?.();
      resolve(true);
    }) ?? (() => undefined);
  });
}
