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
    guardStreamsOnDisconnect(client, onDead);
    return client;
  } catch (err) {
    void client.close().catch(() => undefined);
    throw translateIpcError(err, 'IPC_FAILED', 'cannot connect to the Greengrass nucleus');
  }
}

interface SdkOperation {
  stream?: { close(): void };
}
interface SdkInternals {
  rpcClient?: {
    connection?: { on(event: 'disconnection', listener: () => void): unknown };
    unclosedOperations?: Set<SdkOperation>;
    registerUnclosedOperation?: (operation: SdkOperation) => void;
  };
}

/**
 * Works around a native crash in aws-crt 1.33 (aws-iot-device-sdk-v2 1.28): when the connection to
 * the nucleus drops with operations in flight, the SDK closes their event streams afterwards, and
 * aws_napi_event_stream_client_stream_close releases a continuation the dead connection already
 * released ("corrupted double-linked list", SIGSEGV). Reproduced with test/peers/greengrass-ipc-peer.ts
 * by hanging up mid-publish. From the moment the connection drops, closing any of its streams
 * (existing ones, and any an in-flight call still opens before the SDK notices) is a no-op: their
 * native memory goes with the connection or leaks a few bytes per disconnection, far better than
 * the process dying on every nucleus restart. `onDead` runs at once, before the SDK's own
 * (deferred) `disconnection` event, so no new call starts on the dead connection.
 */
function guardStreamsOnDisconnect(client: IpcClient, onDead: () => void = () => undefined): void {
  const rpc = (client as unknown as SdkInternals).rpcClient;
  const neuter = (operation: SdkOperation): void => {
    if (operation.stream) operation.stream.close = () => undefined;
  };
  rpc?.connection?.on('disconnection', () => {
    for (const operation of rpc.unclosedOperations ?? []) neuter(operation);
    const register = rpc.registerUnclosedOperation?.bind(rpc);
    if (register) {
      rpc.registerUnclosedOperation = (operation) => {
        neuter(operation);
        register(operation);
      };
    }
    onDead();
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
