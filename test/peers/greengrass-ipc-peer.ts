import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { toUtf8 } from '@smithy/util-utf8';
import { matchesTopicFilter } from '../../src/publish/topic-filter.js';
import {
  encodeFrame as frame,
  FLAG_CONNECTION_ACCEPTED,
  FLAG_TERMINATE_STREAM,
  FrameReader,
  headerValue as header,
  MESSAGE_TYPE,
  type Message,
} from './greengrass-nucleus/ipc-framing.js';

/**
 * A protocol-level stand-in for the Greengrass nucleus's IPC server: a Unix socket speaking AWS
 * event-stream RPC framing, enough for the real aws-iot-device-sdk-v2 `greengrasscoreipc` client.
 *
 * Frames: Connect (:message-type 4, JSON {authToken}) → ConnectAck (5, :message-flags 1 = accepted).
 * Each operation opens a stream (:stream-id > 0, header `operation: aws.greengrass#<Op>`, JSON body);
 * we answer on that stream with `service-model-type: aws.greengrass#<Op>Response`, a JSON body and
 * the terminate-stream flag (2), or an ApplicationError (1) carrying an `aws.greengrass#<Error>` shape.
 * Streaming operations (SubscribeToConfigurationUpdate, SubscribeToIoTCore, SubscribeToTopic) stay open
 * and get events on demand; PublishToTopic fans out to the matching SubscribeToTopic streams, as the
 * nucleus's local pub/sub does.
 */


export type IpcOperation = 'PublishToIoTCore' | 'PublishToTopic' | 'GetConfiguration' | 'SubscribeToConfigurationUpdate' | 'SubscribeToIoTCore' | 'SubscribeToTopic' | 'UpdateState';
export type IpcErrorShape = 'ServiceError' | 'UnauthorizedError' | 'ResourceNotFoundError' | 'InvalidArgumentsError';

export interface IpcRequest {
  readonly operation: IpcOperation | string;
  readonly body: Record<string, unknown>;
  readonly at: number;
  /** For PublishToIoTCore / PublishToTopic: the decoded payload bytes. */
  readonly payload?: Buffer;
  /** For publishes: the topic. */
  readonly topic?: string;
}

export interface IpcPeer {
  readonly socketPath: string;
  readonly authToken: string;
  /** Every operation request received, in order (Connect messages are not listed). */
  readonly requests: IpcRequest[];
  /** How many connections were accepted so far. */
  connections(): number;
  /** The environment the SDK reads: socket path and SVCUID. */
  env(): { AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: string; SVCUID: string };
  /** This component's configuration, as GetConfiguration returns it. */
  setConfiguration(config: Record<string, unknown>): void;
  /** Sends a ConfigurationUpdateEvents event on every open SubscribeToConfigurationUpdate stream. Returns how many got it. */
  pushConfigurationUpdate(keyPath: readonly string[]): number;
  /** A message from IoT Core on every open SubscribeToIoTCore stream whose filter matches. Returns how many got it. */
  deliverFromIoTCore(topic: string, payload: Buffer): number;
  /** A local pub/sub message (binary, or JSON when `payload` is not a Buffer), as another component's PublishToTopic. */
  publishLocal(topic: string, payload: Buffer | Record<string, unknown>): number;
  /** The next call of `op` fails with this modelled error. */
  failNext(op: IpcOperation, error: IpcErrorShape, message?: string): void;
  /** The next call of `op` makes the server hang up the connection instead of answering. */
  disconnectOnNext(op: IpcOperation): void;
  /** Closes every client connection (clients see a disconnection). */
  disconnectAll(): void;
  stop(): Promise<void>;
}

export interface IpcPeerOptions {
  readonly socketPath: string;
  readonly authToken?: string;
  readonly componentName?: string;
}

interface Conn {
  socket: Socket;
  frames: FrameReader;
  connected: boolean;
  /** Open streaming operations by stream id: configuration updates, or a topic subscription with its filter. */
  streams: Map<number, { op: 'SubscribeToConfigurationUpdate' | 'SubscribeToIoTCore' | 'SubscribeToTopic'; topic?: string }>;
}

function valueAt(config: Record<string, unknown>, keyPath: readonly string[]): unknown {
  let node: unknown = config;
  for (const key of keyPath) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

export async function startIpcPeer(options: IpcPeerOptions): Promise<IpcPeer> {
  const { socketPath } = options;
  const authToken = options.authToken ?? 'test-svcuid';
  const componentName = options.componentName ?? 'com.example.LookoutEdge';
  await rm(socketPath, { force: true });

  const requests: IpcRequest[] = [];
  const conns = new Set<Conn>();
  const failures = new Map<IpcOperation, { shape: IpcErrorShape; message: string }[]>();
  const hangups = new Set<IpcOperation>();
  let configuration: Record<string, unknown> = {};
  let accepted = 0;

  const send = (conn: Conn, bytes: Uint8Array): void => {
    if (!conn.socket.destroyed) conn.socket.write(bytes);
  };

  const reply = (conn: Conn, streamId: number, op: string, body: unknown, terminate = true): void => {
    send(
      conn,
      frame(MESSAGE_TYPE.ApplicationMessage, terminate ? FLAG_TERMINATE_STREAM : 0, streamId, {
        'service-model-type': { type: 'string', value: `aws.greengrass#${op}Response` },
        ':content-type': { type: 'string', value: 'application/json' },
      }, body),
    );
  };

  const replyError = (conn: Conn, streamId: number, shape: string, message: string): void => {
    send(
      conn,
      frame(MESSAGE_TYPE.ApplicationError, FLAG_TERMINATE_STREAM, streamId, {
        'service-model-type': { type: 'string', value: `aws.greengrass#${shape}` },
        ':content-type': { type: 'string', value: 'application/json' },
      }, { message, _message: message, _errorCode: shape }),
    );
  };

  /** Sends one event to every open stream of `op` whose filter matches `topic`; returns how many got it. */
  const streamEvent = (op: 'SubscribeToConfigurationUpdate' | 'SubscribeToIoTCore' | 'SubscribeToTopic', shape: string, body: unknown, topic?: string): number => {
    let count = 0;
    for (const conn of conns) {
      if (conn.socket.destroyed) continue;
      for (const [streamId, stream] of conn.streams) {
        if (stream.op !== op || (topic !== undefined && !matchesTopicFilter(stream.topic ?? '', topic))) continue;
        send(
          conn,
          frame(MESSAGE_TYPE.ApplicationMessage, 0, streamId, {
            'service-model-type': { type: 'string', value: `aws.greengrass#${shape}` },
            ':content-type': { type: 'string', value: 'application/json' },
          }, body),
        );
        count += 1;
      }
    }
    return count;
  };

  /** A PublishToTopic message body's `publishMessage` → what SubscribeToTopic streams receive. */
  const fanOutLocal = (topic: string, publishMessage: PublishMessage): number => {
    const event = publishMessage.binaryMessage
      ? { binaryMessage: { message: publishMessage.binaryMessage.message, context: { topic } } }
      : { jsonMessage: { message: publishMessage.jsonMessage?.message, context: { topic } } };
    return streamEvent('SubscribeToTopic', 'SubscriptionResponseMessage', event, topic);
  };

  const handleOperation = (conn: Conn, message: Message, streamId: number): void => {
    const flags = Number(header(message.headers, ':message-flags') ?? 0);
    if (flags & FLAG_TERMINATE_STREAM && message.body.length === 0) {
      conn.streams.delete(streamId);
      return;
    }
    const fullName = String(header(message.headers, 'operation') ?? '');
    const op = fullName.replace(/^aws\.greengrass#/, '') as IpcOperation;
    let body: Record<string, unknown> = {};
    try {
      body = message.body.length ? (JSON.parse(toUtf8(message.body)) as Record<string, unknown>) : {};
    } catch {
      replyError(conn, streamId, 'InvalidArgumentsError', 'body is not JSON');
      return;
    }
    const request: IpcRequest = { operation: op, body, at: Date.now(), ...publishDetails(op, body) };
    requests.push(request);

    if (hangups.delete(op)) {
      conn.socket.destroy();
      return;
    }
    const failure = failures.get(op)?.shift();
    if (failure) {
      replyError(conn, streamId, failure.shape, failure.message);
      return;
    }
    switch (op) {
      case 'PublishToTopic':
        reply(conn, streamId, op, {});
        if (request.topic !== undefined && request.payload) fanOutLocal(request.topic, publishMessageOf(body));
        return;
      case 'PublishToIoTCore':
      case 'UpdateState':
        reply(conn, streamId, op, {});
        return;
      case 'GetConfiguration': {
        const keyPath = Array.isArray(body.keyPath) ? (body.keyPath as string[]) : [];
        reply(conn, streamId, op, { componentName: body.componentName ?? componentName, value: valueAt(configuration, keyPath) ?? {} });
        return;
      }
      case 'SubscribeToConfigurationUpdate':
        conn.streams.set(streamId, { op });
        reply(conn, streamId, op, {}, false);
        return;
      case 'SubscribeToIoTCore':
      case 'SubscribeToTopic': {
        const topic = op === 'SubscribeToIoTCore' ? body.topicName : body.topic;
        if (typeof topic !== 'string' || topic.length === 0) {
          replyError(conn, streamId, 'InvalidArgumentsError', 'topic is required');
          return;
        }
        conn.streams.set(streamId, { op, topic });
        reply(conn, streamId, op, {}, false);
        return;
      }
      default:
        replyError(conn, streamId, 'ServiceError', `operation ${fullName} is not supported by the test peer`);
    }
  };

  const handle = (conn: Conn, message: Message): void => {
    const type = Number(header(message.headers, ':message-type'));
    const streamId = Number(header(message.headers, ':stream-id') ?? 0);
    if (type === MESSAGE_TYPE.Connect) {
      let token: unknown;
      try {
        token = (JSON.parse(toUtf8(message.body)) as { authToken?: unknown }).authToken;
      } catch {
        token = undefined;
      }
      const ok = token === authToken;
      conn.connected = ok;
      if (ok) accepted += 1;
      send(conn, frame(MESSAGE_TYPE.ConnectAck, ok ? FLAG_CONNECTION_ACCEPTED : 0, 0, {}, undefined));
      if (!ok) conn.socket.end();
      return;
    }
    if (type === MESSAGE_TYPE.Ping) {
      send(conn, frame(MESSAGE_TYPE.PingResponse, 0, 0, {}, undefined));
      return;
    }
    if (!conn.connected) {
      send(conn, frame(MESSAGE_TYPE.ProtocolError, 0, 0, {}, { message: 'connect first' }));
      conn.socket.end();
      return;
    }
    if (type === MESSAGE_TYPE.ApplicationMessage && streamId > 0) handleOperation(conn, message, streamId);
  };

  const server: Server = createServer((socket) => {
    const conn: Conn = { socket, frames: new FrameReader(), connected: false, streams: new Map() };
    conns.add(conn);
    socket.on('data', (chunk: Buffer) => {
      for (const message of conn.frames.push(chunk)) handle(conn, message);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => conns.delete(conn));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });

  return {
    socketPath,
    authToken,
    requests,
    connections: () => accepted,
    env: () => ({ AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: socketPath, SVCUID: authToken }),
    setConfiguration: (config) => {
      configuration = structuredClone(config);
    },
    pushConfigurationUpdate: (keyPath) => streamEvent('SubscribeToConfigurationUpdate', 'ConfigurationUpdateEvents', { configurationUpdateEvent: { componentName, keyPath: [...keyPath] } }),
    deliverFromIoTCore: (topic, payload) => streamEvent('SubscribeToIoTCore', 'IoTCoreMessage', { message: { topicName: topic, payload: payload.toString('base64') } }, topic),
    publishLocal: (topic, payload) =>
      fanOutLocal(topic, Buffer.isBuffer(payload) ? { binaryMessage: { message: payload.toString('base64') } } : { jsonMessage: { message: payload } }),
    failNext: (op, shape, message = `${shape} from the test peer`) => {
      const list = failures.get(op) ?? [];
      list.push({ shape, message });
      failures.set(op, list);
    },
    disconnectOnNext: (op) => {
      hangups.add(op);
    },
    disconnectAll: () => {
      for (const conn of conns) conn.socket.destroy();
    },
    stop: async () => {
      for (const conn of conns) conn.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(socketPath, { force: true });
    },
  };
}

interface PublishMessage {
  binaryMessage?: { message?: string };
  jsonMessage?: { message?: unknown };
}

function publishMessageOf(body: Record<string, unknown>): PublishMessage {
  return (body.publishMessage ?? {}) as PublishMessage;
}

function publishDetails(op: string, body: Record<string, unknown>): { payload?: Buffer; topic?: string } {
  if (op === 'PublishToIoTCore' && typeof body.payload === 'string') {
    return { topic: String(body.topicName), payload: Buffer.from(body.payload, 'base64') };
  }
  if (op === 'PublishToTopic') {
    const message = publishMessageOf(body);
    if (message?.binaryMessage?.message !== undefined) return { topic: String(body.topic), payload: Buffer.from(message.binaryMessage.message, 'base64') };
    if (message?.jsonMessage) return { topic: String(body.topic), payload: Buffer.from(JSON.stringify(message.jsonMessage.message)) };
  }
  return {};
}
