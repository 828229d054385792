import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { MQTT_PROXY_SERVICE, PUBSUB_SERVICE, UnauthorizedError, authorize, topicMatchesFilter } from './authorization.js';
import { pathGet, startsWith } from './configuration.js';
import { FLAG_CONNECTION_ACCEPTED, FLAG_TERMINATE_STREAM, FrameReader, MESSAGE_TYPE, encodeFrame, headerValue, jsonBody, modelHeaders, type Message } from './ipc-framing.js';
import { isObj } from './recipe.js';

/**
 * The nucleus's IPC server: one Unix socket (`<root>/ipc.socket`, path given to components in
 * AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT), event-stream RPC.
 *
 * Facts (developer guide: interprocess-communication, ipc-component-configuration, ipc-iot-core-mqtt,
 * ipc-publish-subscribe, ipc-component-lifecycle):
 * - A client authenticates with the component's SVCUID; an unknown token is refused (ConnectAck without the
 *   accepted flag).
 * - GetConfiguration {componentName?, keyPath} → {componentName, value}; a leaf comes back as `{<last key>: value}`
 *   (ConfigStoreIPCEventStreamAgent); a missing key → ResourceNotFoundError. No authorization needed.
 * - SubscribeToConfigurationUpdate {componentName?, keyPath}: one `ConfigurationUpdateEvents` event
 *   {configurationUpdateEvent: {componentName, keyPath}} per changed key under keyPath.
 * - UpdateState {state: RUNNING | ERRORED}.
 * - PublishToIoTCore {topicName, qos, payload (base64), retain?}: success means the message is spooled, not
 *   delivered (integration notes; spooler: memory, 2.5 MB by default, rejects when full).
 * - SubscribeToIoTCore {topicName, qos} → `IoTCoreMessage` {message: {topicName, payload}}.
 * - PublishToTopic {topic, publishMessage: {jsonMessage|binaryMessage}} → every SubscribeToTopic stream whose topic
 *   (MQTT wildcards allowed since 2.6.0) matches gets `SubscriptionResponseMessage` with `context.topic`; the
 *   publisher receives its own messages unless it subscribed with receiveMode RECEIVE_MESSAGES_FROM_OTHERS.
 * - Authorization: see authorization.ts.
 */

export interface IpcLogEntry {
  component: string;
  operation: string;
  authorized: boolean;
  at: number;
  request: Record<string, unknown>;
  error?: string;
}

export interface IpcHost {
  componentForToken(token: string): string | undefined;
  configuration(name: string): Record<string, unknown> | undefined;
  updateState(name: string, state: string): void;
  publishToIoTCore(component: string, topic: string, payload: Buffer, qos: 0 | 1, retain: boolean): void;
  subscribeToIoTCore(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}

type StreamKind = 'config' | 'iot' | 'local' | 'idle';

interface OpenStream {
  kind: StreamKind;
  component: string;
  target?: string;
  keyPath?: string[];
  filter?: string;
  receiveOwn?: boolean;
  unsubscribe?: () => Promise<void>;
}

interface Conn {
  socket: Socket;
  reader: FrameReader;
  component?: string;
  streams: Map<number, OpenStream>;
}

class ServiceError extends Error {
  constructor(
    readonly shape: string,
    message: string,
  ) {
    super(message);
  }
}

export interface IpcServer {
  readonly socketPath: string;
  readonly log: IpcLogEntry[];
  configurationChanged(component: string, paths: string[][]): void;
  disconnect(component: string): void;
  stop(): Promise<void>;
}

export async function startIpcServer(socketPath: string, host: IpcHost): Promise<IpcServer> {
  await rm(socketPath, { force: true });
  const conns = new Set<Conn>();
  const log: IpcLogEntry[] = [];

  const send = (conn: Conn, bytes: Uint8Array): void => {
    if (!conn.socket.destroyed) conn.socket.write(bytes);
  };
  const reply = (conn: Conn, id: number, op: string, body: unknown, terminate = true): void =>
    send(conn, encodeFrame(MESSAGE_TYPE.ApplicationMessage, terminate ? FLAG_TERMINATE_STREAM : 0, id, modelHeaders(`${op}Response`), body));
  const event = (conn: Conn, id: number, shape: string, body: unknown): void => send(conn, encodeFrame(MESSAGE_TYPE.ApplicationMessage, 0, id, modelHeaders(shape), body));
  const replyError = (conn: Conn, id: number, shape: string, message: string): void =>
    send(conn, encodeFrame(MESSAGE_TYPE.ApplicationError, FLAG_TERMINATE_STREAM, id, modelHeaders(shape), { message, _message: message, _errorCode: shape }));

  const closeStream = (conn: Conn, id: number): void => {
    const stream = conn.streams.get(id);
    conn.streams.delete(id);
    void stream?.unsubscribe?.().catch(() => undefined);
  };

  const fanOutLocal = (publisher: string, topic: string, publishMessage: Record<string, unknown>): void => {
    const binary = isObj(publishMessage.binaryMessage) ? publishMessage.binaryMessage : undefined;
    const json = isObj(publishMessage.jsonMessage) ? publishMessage.jsonMessage : undefined;
    const body = binary ? { binaryMessage: { message: binary.message, context: { topic } } } : { jsonMessage: { message: json?.message, context: { topic } } };
    for (const conn of conns) {
      for (const [id, s] of conn.streams) {
        if (s.kind !== 'local' || !topicMatchesFilter(s.filter ?? '', topic)) continue;
        if (!s.receiveOwn && s.component === publisher) continue;
        event(conn, id, 'SubscriptionResponseMessage', body);
      }
    }
  };

  const operate = async (conn: Conn, id: number, component: string, op: string, body: Record<string, unknown>): Promise<void> => {
    const own = host.configuration(component) ?? {};
    switch (op) {
      case 'GetConfiguration': {
        const target = typeof body.componentName === 'string' ? body.componentName : component;
        const keyPath = Array.isArray(body.keyPath) ? body.keyPath.map(String) : [];
        const config = host.configuration(target);
        if (!config) throw new ServiceError('ResourceNotFoundError', `Component config not found for component ${target}`);
        const value = pathGet(config, keyPath);
        if (value === undefined) throw new ServiceError('ResourceNotFoundError', `Key not found`);
        const out = isObj(value) ? value : { [keyPath[keyPath.length - 1] ?? '']: value };
        return reply(conn, id, op, { componentName: target, value: structuredClone(out) });
      }
      case 'SubscribeToConfigurationUpdate': {
        const target = typeof body.componentName === 'string' ? body.componentName : component;
        conn.streams.set(id, { kind: 'config', component, target, keyPath: Array.isArray(body.keyPath) ? body.keyPath.map(String) : [] });
        return reply(conn, id, op, {}, false);
      }
      case 'UpdateState':
        host.updateState(component, String(body.state ?? ''));
        return reply(conn, id, op, {});
      case 'PublishToIoTCore': {
        const topic = String(body.topicName ?? '');
        authorize(component, own, MQTT_PROXY_SERVICE, `aws.greengrass#${op}`, topic);
        const payload = Buffer.from(typeof body.payload === 'string' ? body.payload : '', 'base64');
        host.publishToIoTCore(component, topic, payload, String(body.qos) === '1' ? 1 : 0, body.retain === true);
        return reply(conn, id, op, {});
      }
      case 'SubscribeToIoTCore': {
        const filter = String(body.topicName ?? '');
        authorize(component, own, MQTT_PROXY_SERVICE, `aws.greengrass#${op}`, filter);
        const stream: OpenStream = { kind: 'iot', component, filter };
        conn.streams.set(id, stream);
        stream.unsubscribe = await host.subscribeToIoTCore(filter, (topic, payload) => {
          if (conn.streams.get(id) === stream) event(conn, id, 'IoTCoreMessage', { message: { topicName: topic, payload: payload.toString('base64') } });
        });
        return reply(conn, id, op, {}, false);
      }
      case 'PublishToTopic': {
        const topic = String(body.topic ?? '');
        authorize(component, own, PUBSUB_SERVICE, `aws.greengrass#${op}`, topic);
        reply(conn, id, op, {});
        return fanOutLocal(component, topic, isObj(body.publishMessage) ? body.publishMessage : {});
      }
      case 'SubscribeToTopic': {
        const filter = String(body.topic ?? '');
        authorize(component, own, PUBSUB_SERVICE, `aws.greengrass#${op}`, filter);
        conn.streams.set(id, { kind: 'local', component, filter, receiveOwn: body.receiveMode !== 'RECEIVE_MESSAGES_FROM_OTHERS' });
        return reply(conn, id, op, {}, false);
      }
      case 'SubscribeToValidateConfigurationUpdates':
      case 'SubscribeToComponentUpdates':
        conn.streams.set(id, { kind: 'idle', component });
        return reply(conn, id, op, {}, false);
      case 'SendConfigurationValidityReport':
      case 'DeferComponentUpdate':
        return reply(conn, id, op, {});
      default:
        throw new ServiceError('ServiceError', `Operation ${op} is not supported by this nucleus emulator`);
    }
  };

  const handle = (conn: Conn, message: Message): void => {
    const type = Number(headerValue(message.headers, ':message-type'));
    const id = Number(headerValue(message.headers, ':stream-id') ?? 0);
    if (type === MESSAGE_TYPE.Connect) {
      let token = '';
      try {
        token = String(jsonBody(message).authToken ?? '');
      } catch {
        token = '';
      }
      conn.component = host.componentForToken(token);
      send(conn, encodeFrame(MESSAGE_TYPE.ConnectAck, conn.component ? FLAG_CONNECTION_ACCEPTED : 0, 0, {}, undefined));
      if (!conn.component) conn.socket.end();
      return;
    }
    if (type === MESSAGE_TYPE.Ping) return send(conn, encodeFrame(MESSAGE_TYPE.PingResponse, 0, 0, {}, undefined));
    const component = conn.component;
    if (!component) {
      send(conn, encodeFrame(MESSAGE_TYPE.ProtocolError, 0, 0, {}, { message: 'connect first' }));
      conn.socket.end();
      return;
    }
    if (type !== MESSAGE_TYPE.ApplicationMessage || id <= 0) return;
    const flags = Number(headerValue(message.headers, ':message-flags') ?? 0);
    if (flags & FLAG_TERMINATE_STREAM && message.body.length === 0) return closeStream(conn, id);
    const op = String(headerValue(message.headers, 'operation') ?? '').replace(/^aws\.greengrass#/, '');
    let body: Record<string, unknown>;
    try {
      body = jsonBody(message);
    } catch {
      return replyError(conn, id, 'InvalidArgumentsError', 'body is not JSON');
    }
    const entry: IpcLogEntry = { component, operation: op, authorized: true, at: Date.now(), request: body };
    log.push(entry);
    operate(conn, id, component, op, body).catch((err: unknown) => {
      entry.error = (err as Error).message;
      if (err instanceof UnauthorizedError) {
        entry.authorized = false;
        return replyError(conn, id, 'UnauthorizedError', err.message);
      }
      conn.streams.delete(id);
      replyError(conn, id, err instanceof ServiceError ? err.shape : 'ServiceError', (err as Error).message);
    });
  };

  const server: Server = createServer((socket) => {
    const conn: Conn = { socket, reader: new FrameReader(), streams: new Map() };
    conns.add(conn);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const m of conn.reader.push(chunk)) handle(conn, m);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      conns.delete(conn);
      for (const id of [...conn.streams.keys()]) closeStream(conn, id);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  // Components run as another user: the socket must be writable by them (the nucleus makes it 0777/0666).
  await chmod(socketPath, 0o666);

  return {
    socketPath,
    log,
    configurationChanged: (target, paths) => {
      for (const conn of conns) {
        for (const [id, s] of conn.streams) {
          if (s.kind !== 'config' || s.target !== target) continue;
          for (const path of paths) {
            if (startsWith(path, s.keyPath ?? []) || startsWith(s.keyPath ?? [], path)) event(conn, id, 'ConfigurationUpdateEvents', { configurationUpdateEvent: { componentName: target, keyPath: path } });
          }
        }
      }
    },
    disconnect: (component) => {
      for (const conn of conns) if (conn.component === component) conn.socket.destroy();
    },
    stop: async () => {
      for (const conn of conns) conn.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(socketPath, { force: true });
    },
  };
}
