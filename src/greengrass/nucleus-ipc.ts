/**
 * What we use of the Greengrass nucleus over IPC, SDK-free. The adapter
 * (adapters/ipc-client.ts) implements it on aws-iot-device-sdk-v2 `greengrasscoreipc`, reconnecting
 * with backoff after a disconnection (a disconnected SDK client is dead and must be replaced).
 */
export interface NucleusIpc {
  start(): Promise<void>;
  stop(reason?: string): Promise<void>;
  isConnected(): boolean;
  onConnectionChange(listener: (connected: boolean) => void): () => void;
  /**
   * PublishToIoTCore. Success means the nucleus **spooled** the message (memory spooler by default,
   * lost on a nucleus restart), not that IoT Core acknowledged it.
   */
  publishToIoTCore(topic: string, payload: Buffer, options: { qos: 0 | 1; retain?: boolean }): Promise<void>;
  /** PublishToTopic on the nucleus's local pub/sub (binary message). */
  publishToTopic(topic: string, payload: Buffer): Promise<void>;
  /** GetConfiguration of this component at `keyPath` ([] for all of it). */
  getConfiguration(keyPath: readonly string[]): Promise<unknown>;
  /**
   * SubscribeToConfigurationUpdate on this component: the listener gets the key path that changed
   * (read it again with getConfiguration), and `[]` (the root) each time the stream opens, for updates
   * it may have missed before. Kept across reconnections. Returns an unsubscribe function.
   */
  subscribeToConfigurationUpdate(listener: (keyPath: string[]) => void): () => void;
  updateState(state: 'RUNNING' | 'ERRORED'): Promise<void>;
  /**
   * SubscribeToIoTCore (`iot-core`, QoS 1, MQTT wildcards allowed) or SubscribeToTopic (`local` pub/sub,
   * binary or JSON messages, the latter handed over as JSON bytes). Opened now when connected and again
   * on every new connection. Rejects with SUBSCRIBE_FAILED only when the nucleus refuses it for good
   * (accessControl lacks the topic); one cut by a dropped connection opens on the next connection.
   * Resolves with an unsubscribe function.
   */
  subscribe(target: 'iot-core' | 'local', topic: string, listener: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}
