import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { withDeadline } from '../../core/deadline.js';
import { type ErrorCode, LookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { backoffDelay } from '../../core/backoff.js';
import type { NucleusIpc } from '../nucleus-ipc.js';
import { closeIpc, connectIpc, type IpcClient, translateIpcError } from './ipc-connection.js';

interface TopicSubscription {
  readonly target: 'iot-core' | 'local';
  readonly topic: string;
  readonly listener: (topic: string, payload: Buffer) => void;
  stream?: { close(): Promise<void> };
}

/** The SDK hands payloads over as Buffers; be lenient with strings and typed arrays all the same. */
function toBuffer(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return Buffer.alloc(0);
}

export interface GreengrassIpcDeps {
  readonly log: Logger;
  /** Where the socket path and SVCUID come from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Deadline for each call (and for connecting). */
  readonly callTimeoutMs: number;
  readonly reconnect?: { readonly initialMs: number; readonly maxMs: number };
}

/**
 * A long-lived connection to the nucleus that replaces its SDK client after a disconnection,
 * with capped backoff, and re-opens configuration and topic subscriptions on the new client.
 */
export class GreengrassIpc implements NucleusIpc {
  private client: IpcClient | undefined;
  private connecting: Promise<IpcClient | undefined> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private running = false;
  private readonly listeners = new Set<(connected: boolean) => void>();
  private readonly configListeners = new Set<(keyPath: string[]) => void>();
  private configStream: { close(): Promise<void> } | undefined;
  private readonly topicSubscriptions = new Set<TopicSubscription>();
  private readonly inFlight = new Set<() => void>();
  private readonly pending = new Set<Promise<unknown>>();
  /** How many SDK clients were created (1 + reconnections). */
  generation = 0;

  constructor(private readonly deps: GreengrassIpcDeps) {}

  async start(): Promise<void> {
    this.running = true;
    await this.ensureClient();
  }

  async stop(reason = 'stop'): Promise<void> {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await this.connecting;
    await this.dropClient();
    this.deps.log.info({ reason }, 'greengrass ipc closed');
  }

  isConnected(): boolean {
    return this.client !== undefined;
  }

  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async publishToIoTCore(topic: string, payload: Buffer, options: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    const client = this.requireClient('PUBLISH_FAILED');
    const qos = options.qos === 1 ? greengrasscoreipc.model.QOS.AT_LEAST_ONCE : greengrasscoreipc.model.QOS.AT_MOST_ONCE;
    await this.call(() => client.publishToIoTCore({ topicName: topic, qos, payload, ...(options.retain ? { retain: true } : {}) }), 'PUBLISH_FAILED', `PublishToIoTCore ${topic}`);
  }

  async publishToTopic(topic: string, payload: Buffer): Promise<void> {
    const client = this.requireClient('PUBLISH_FAILED');
    await this.call(() => client.publishToTopic({ topic, publishMessage: { binaryMessage: { message: payload } } }), 'PUBLISH_FAILED', `PublishToTopic ${topic}`);
  }

  async getConfiguration(keyPath: readonly string[]): Promise<unknown> {
    const client = this.requireClient('IPC_FAILED');
    const response = await this.call(() => client.getConfiguration({ keyPath: [...keyPath] }), 'IPC_FAILED', 'GetConfiguration');
    return response.value ?? {};
  }

  subscribeToConfigurationUpdate(listener: (keyPath: string[]) => void): () => void {
    this.configListeners.add(listener);
    if (this.client && !this.configStream) void this.openConfigStream(this.client);
    return () => {
      this.configListeners.delete(listener);
      if (this.configListeners.size === 0) {
        const stream = this.configStream;
        this.configStream = undefined;
        void stream?.close().catch(() => undefined);
      }
    };
  }

  async subscribe(target: 'iot-core' | 'local', topic: string, listener: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>> {
    const subscription: TopicSubscription = { target, topic, listener };
    this.topicSubscriptions.add(subscription);
    if (this.client) {
      try {
        await this.openTopicStream(this.client, subscription);
      } catch (err) {
        const problem = translateIpcError(err, 'SUBSCRIBE_FAILED', `subscription to ${topic}`);
        // refused (not authorized, bad topic): the caller hears of it; a dropped connection: opened on the next one
        if (!problem.retryable) {
          this.topicSubscriptions.delete(subscription);
          throw problem;
        }
        this.deps.log.warn({ err: problem.toJSON() }, 'subscription not open yet; opened on the next connection');
      }
    }
    return async () => {
      this.topicSubscriptions.delete(subscription);
      const stream = subscription.stream;
      subscription.stream = undefined;
      await stream?.close().catch(() => undefined);
    };
  }

  async updateState(state: 'RUNNING' | 'ERRORED'): Promise<void> {
    const client = this.requireClient('IPC_FAILED');
    const value = state === 'RUNNING' ? greengrasscoreipc.model.ReportedLifecycleState.RUNNING : greengrasscoreipc.model.ReportedLifecycleState.ERRORED;
    await this.call(() => client.updateState({ state: value }), 'IPC_FAILED', `UpdateState ${state}`);
  }

  private requireClient(code: ErrorCode): IpcClient {
    if (this.client) return this.client;
    this.scheduleReconnect();
    throw new LookoutError(code, 'not connected to the Greengrass nucleus (reconnecting)', { details: { attempts: this.attempts } });
  }

  /** Each call has a deadline, and fails at once when the connection drops under it (the SDK would leave it hanging). */
  private async call<T>(fn: () => Promise<T>, code: ErrorCode, what: string): Promise<T> {
    let abort: ((err: LookoutError) => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      abort = reject;
    });
    const entry = (): void => abort?.(new LookoutError(code, `${what}: the connection to the nucleus dropped`));
    this.inFlight.add(entry);
    const attempt = withDeadline(Promise.race([fn(), aborted]), this.deps.callTimeoutMs, what, code);
    this.pending.add(attempt);
    try {
      return await attempt;
    } catch (err) {
      throw translateIpcError(err, code, what);
    } finally {
      this.inFlight.delete(entry);
      this.pending.delete(attempt);
    }
  }

  private ensureClient(): Promise<IpcClient | undefined> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connectOnce().finally(() => {
      this.connecting = undefined;
      // a failed attempt, or a connection that dropped while subscriptions were re-opened: try again
      if (!this.client) this.scheduleReconnect();
    });
    return this.connecting;
  }

  private async connectOnce(): Promise<IpcClient | undefined> {
    try {
      let dead = false;
      const client = await connectIpc(this.deps.env ?? process.env, this.deps.callTimeoutMs, () => {
        dead = true;
        this.onDisconnection(client);
      });
      if (dead) return undefined;
      if (!this.running) {
        await client.close().catch(() => undefined);
        return undefined;
      }
      this.generation += 1;
      this.attempts = 0;
      client.on('disconnection', () => this.onDisconnection(client));
      this.client = client;
      // subscriptions made from here on open their own stream on this client
      const resubscribe = [...this.topicSubscriptions];
      this.deps.log.info({ generation: this.generation }, 'greengrass ipc connected');
      if (this.configListeners.size > 0) await this.openConfigStream(client);
      for (const subscription of resubscribe) {
        await this.openTopicStream(client, subscription).catch((err: unknown) => {
          this.deps.log.warn({ err: translateIpcError(err, 'SUBSCRIBE_FAILED', subscription.topic).toJSON() }, 'cannot subscribe again; retried on the next connection');
        });
      }
      if (this.client !== client) return undefined; // dropped again while subscriptions were re-opened
      for (const listener of this.listeners) listener(true);
      return client;
    } catch (err) {
      this.attempts += 1;
      if (this.attempts === 1 || this.attempts % 10 === 0) {
        this.deps.log.warn({ code: (err as LookoutError).code, attempt: this.attempts }, 'greengrass ipc connect failed; retrying');
      }
      return undefined;
    }
  }

  private onDisconnection(client: IpcClient): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.configStream = undefined;
    for (const subscription of this.topicSubscriptions) subscription.stream = undefined;
    // The SDK client cannot be reused (it closes itself after a disconnection): make a new one.
    for (const abort of [...this.inFlight]) abort();
    this.deps.log.warn({ generation: this.generation }, 'greengrass ipc disconnected; recreating the client');
    for (const listener of this.listeners) listener(false);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer || this.connecting || this.client) return;
    const { initialMs, maxMs } = this.deps.reconnect ?? { initialMs: 100, maxMs: 10_000 };
    const wait = backoffDelay({ initialMs, maxMs }, this.attempts + 1);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.ensureClient();
    }, wait);
    this.reconnectTimer.unref();
  }

  private async openConfigStream(client: IpcClient): Promise<void> {
    const operation = client.subscribeToConfigurationUpdate({ keyPath: [] });
    operation.on('message', (event) => {
      const keyPath = event.configurationUpdateEvent?.keyPath ?? [];
      for (const listener of this.configListeners) listener([...keyPath]);
    });
    operation.on('streamError', (err) => this.deps.log.warn({ err: translateIpcError(err, 'IPC_FAILED', 'configuration updates').toJSON() }, 'configuration update stream error'));
    this.configStream = operation;
    try {
      await this.call(() => operation.activate(), 'IPC_FAILED', 'SubscribeToConfigurationUpdate');
    } catch (err) {
      this.configStream = undefined;
      this.deps.log.warn({ err: (err as LookoutError).toJSON() }, 'cannot subscribe to configuration updates');
      return;
    }
    // The nucleus does not replay updates made before the stream was open (at start-up, or while it
    // was away): listeners hear "the root may have changed" once and read the configuration again.
    if (this.configStream === operation) for (const listener of this.configListeners) listener([]);
  }

  /** One SubscribeToIoTCore / SubscribeToTopic stream; the subscription keeps it until the next disconnection. */
  private async openTopicStream(client: IpcClient, subscription: TopicSubscription): Promise<void> {
    const { target, topic, listener } = subscription;
    const deliver = (from: string, payload: Buffer): void => {
      try {
        listener(from, payload);
      } catch (err) {
        this.deps.log.error({ topic: from, error: (err as Error).message }, 'message handler failed');
      }
    };
    const onStreamError = (err: unknown): void => {
      this.deps.log.warn({ err: translateIpcError(err, 'SUBSCRIBE_FAILED', `subscription to ${topic}`).toJSON() }, 'subscription stream error');
    };
    let operation: { activate(): Promise<unknown>; close(): Promise<void> };
    if (target === 'iot-core') {
      const op = client.subscribeToIoTCore({ topicName: topic, qos: greengrasscoreipc.model.QOS.AT_LEAST_ONCE });
      op.on('message', (event) => {
        if (event.message) deliver(event.message.topicName, toBuffer(event.message.payload));
      });
      op.on('streamError', onStreamError);
      operation = op;
    } else {
      const op = client.subscribeToTopic({ topic });
      op.on('message', (event) => {
        if (event.binaryMessage) deliver(event.binaryMessage.context?.topic ?? topic, toBuffer(event.binaryMessage.message));
        else if (event.jsonMessage) deliver(event.jsonMessage.context?.topic ?? topic, Buffer.from(JSON.stringify(event.jsonMessage.message ?? null)));
      });
      op.on('streamError', onStreamError);
      operation = op;
    }
    const what = `${target === 'iot-core' ? 'SubscribeToIoTCore' : 'SubscribeToTopic'} ${topic}`;
    await this.call(() => operation.activate(), 'SUBSCRIBE_FAILED', what);
    if (this.client !== client || !this.topicSubscriptions.has(subscription)) {
      await operation.close().catch(() => undefined);
      return;
    }
    subscription.stream = operation;
  }

  private async dropClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    // In-flight calls end by their deadline at the latest; their streams must close before the connection.
    await Promise.allSettled([...this.pending]);
    const stream = this.configStream;
    this.configStream = undefined;
    await stream?.close().catch(() => undefined);
    for (const subscription of this.topicSubscriptions) {
      const topicStream = subscription.stream;
      subscription.stream = undefined;
      await topicStream?.close().catch(() => undefined);
    }
    if (client) {
      await closeIpc(client);
      for (const listener of this.listeners) listener(false);
    }
  }
}
