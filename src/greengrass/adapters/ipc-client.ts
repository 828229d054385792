import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { LookoutError } from '../../core/errors.js';

export type IpcClient = greengrasscoreipc.Client;

/**
 * Connects to the nucleus over its IPC socket. The SDK reads the socket path and SVCUID from
 * the environment. A client is dead after its `disconnection` event: callers make a new one.
 */
export async function connectIpc(): Promise<IpcClient> {
  const client = greengrasscoreipc.createClient();
  try {
    await client.connect();
    return client;
  } catch (err) {
    throw new LookoutError('IPC_FAILED', `cannot connect to the Greengrass nucleus: ${(err as Error).message}`, { cause: err });
  }
}

/** This component's whole configuration (GetConfiguration with an empty key path). */
export async function getComponentConfiguration(client: IpcClient): Promise<unknown> {
  try {
    const response = await client.getConfiguration({ keyPath: [] });
    return response.value ?? {};
  } catch (err) {
    throw new LookoutError('IPC_FAILED', `GetConfiguration failed: ${(err as Error).message}`, { cause: err });
  }
}
