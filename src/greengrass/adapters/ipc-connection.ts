import { eventstream_rpc, greengrasscoreipc, io } from 'aws-iot-device-sdk-v2';
import { sleep, withDeadline } from '../../core/deadline.js';
import { type ErrorCode, LookoutError } from '../../core/errors.js';

export type IpcClient = greengrasscoreipc.Client;

/**
 * The SDK's default client configuration (greengrasscoreipc.createDefaultClientConfig) reads
 * process.env; this one reads the environment it is given, so callers and tests can pass theirs.
 */
function clientConfig(env: NodeJS.ProcessEnv): eventstream_rpc.RpcClientConfig {
  const socketPath = env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT ?? '';
  const authToken = env.SVCUID;
  return {
    hostName: socketPath,
    port: 0,
    socketOptions: new io.SocketOptions(io.SocketType.STREAM, io.SocketDomain.LOCAL),
    connectTransform: async (options) => {
      const message = options.message;
      if (authToken) message.payload = JSON.stringify({ authToken });
      return message;
    },
  };
}

/**
 * Connects to the nucleus over its IPC socket (path and SVCUID from `env`, as the nucleus sets
 * them). A client is dead after its `disconnection` event: callers make a new one.
 */
export async function connectIpc(env: NodeJS.ProcessEnv = process.env, timeoutMs = 10_000, onDead?: () => void): Promise<IpcClient> {
  if (!env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT) {
    throw new LookoutError('IPC_FAILED', 'AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT is not set: not running under Greengrass');
  }
  const client = greengrasscoreipc.createClient(clientConfig(env));
  try {
    await withDeadline(client.connect(), timeoutMs, 'connect to the Greengrass nucleus', 'IPC_FAILED');
    guardStreams(client, onDead);
    return client;
  } catch (err) {
    void client.close().catch(() => undefined);
    throw translateIpcError(err, 'IPC_FAILED', 'cannot connect to the Greengrass nucleus');
  }
}

interface SdkStream {
  close(): void;
  activate(options: unknown): Promise<unknown>;
}
interface SdkOperation {
  stream?: SdkStream;
}
interface SdkInternals {
  rpcClient?: {
    connection?: { on(event: 'disconnection', listener: () => void): unknown };
    unclosedOperations?: Set<SdkOperation>;
    registerUnclosedOperation?: (operation: SdkOperation) => void;
  };
}

/** Makes closing the operation's event stream a no-op: its native memory is released without us, or leaks a few bytes. */
function neuter(operation: SdkOperation): void {
  if (operation.stream) operation.stream.close = () => undefined;
}

/**
 * Works around two use-after-free crashes in aws-crt 1.33's event-stream binding (aws-iot-device-sdk-v2
 * 1.28), both in aws_napi_event_stream_client_stream_close ("corrupted double-linked list", SIGSEGV in
 * napi_delete_reference), both reproduced with test/peers/greengrass-ipc-peer.ts hanging up while
 * publishes are being written (test/greengrass/ipc-connection.native-crash-guard.test.ts):
 *
 * - A stream whose activation message fails to flush because the connection is going away has its
 *   native binding released twice (source/event_stream.c: once by the failed activation, once when
 *   the dying connection closes the continuation), so the binding is freed without JS knowing; the
 *   SDK then closes the operation (setImmediate) and stream.close() touches freed memory. Closing
 *   such a stream is made a no-op the moment its activation rejects, before the SDK's close runs.
 * - When the connection drops with operations in flight, the SDK closes their streams afterwards.
 *   From that moment, closing any of its streams (existing ones, and any an in-flight call still
 *   opens before the SDK notices) is a no-op: their memory goes with the connection.
 *
 * `onDead` runs at once, before the SDK's own (deferred) `disconnection` event, so no new call starts
 * on the dead connection.
 */
function guardStreams(client: IpcClient, onDead: () => void = () => undefined): void {
  const rpc = (client as unknown as SdkInternals).rpcClient;
  if (!rpc) return;
  let dead = false;
  const register = rpc.registerUnclosedOperation?.bind(rpc);
  if (register) {
    rpc.registerUnclosedOperation = (operation) => {
      if (dead) neuter(operation);
      else neuterIfActivationFails(operation);
      register(operation);
    };
  }
  rpc.connection?.on('disconnection', () => {
    dead = true;
    for (const operation of rpc.unclosedOperations ?? []) neuter(operation);
    onDead();
  });
}

function neuterIfActivationFails(operation: SdkOperation): void {
  const stream = operation.stream;
  if (!stream) return;
  const activate = stream.activate.bind(stream);
  stream.activate = (options) =>
    activate(options).catch((err: unknown) => {
      neuter(operation);
      throw err;
    });
}

/** Lets operation streams scheduled to close (setImmediate in the SDK) do so before the connection goes. */
function streamsSettle(): Promise<void> {
  return sleep(10);
}

/** This component's whole configuration (GetConfiguration with an empty key path). */
export async function getComponentConfiguration(client: IpcClient, timeoutMs = 10_000): Promise<unknown> {
  try {
    const response = await withDeadline(client.getConfiguration({ keyPath: [] }), timeoutMs, 'GetConfiguration', 'IPC_FAILED');
    return response.value ?? {};
  } catch (err) {
    throw translateIpcError(err, 'IPC_FAILED', 'GetConfiguration failed');
  }
}

/**
 * SDK errors → our codes, by the modelled error shape (never by message text). The nucleus tags
 * modelled errors with `_errorCode` (UnauthorizedError, ServiceError, InvalidArgumentsError, ...).
 */
export function translateIpcError(err: unknown, fallback: ErrorCode, what: string): LookoutError {
  if (err instanceof LookoutError) return err;
  if (err instanceof eventstream_rpc.RpcError) {
    const service = err.serviceError as { _errorCode?: string; message?: string } | undefined;
    const shape = service?._errorCode;
    const detail = service?.message ?? err.description;
    const details = { rpcErrorType: eventstream_rpc.RpcErrorType[err.type], shape };
    if (shape === 'UnauthorizedError') {
      return new LookoutError(fallback === 'PUBLISH_FAILED' ? 'PUBLISH_UNAUTHORIZED' : fallback, `${what}: not authorized (${detail}); check the component's accessControl`, {
        cause: err,
        retryable: false,
        details,
      });
    }
    if (shape === 'InvalidArgumentsError') {
      return new LookoutError(fallback === 'PUBLISH_FAILED' ? 'PAYLOAD_INVALID' : fallback, `${what}: invalid arguments (${detail})`, { cause: err, retryable: false, details });
    }
    if (shape === 'ResourceNotFoundError') {
      return new LookoutError(fallback, `${what}: not found (${detail})`, { cause: err, retryable: false, details });
    }
    return new LookoutError(fallback, `${what}: ${detail}`, { cause: err, details });
  }
  return new LookoutError(fallback, `${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** Closes a client once its finished operations have released their streams. */
export async function closeIpc(client: IpcClient): Promise<void> {
  await streamsSettle();
  await client.close().catch(() => undefined);
}
