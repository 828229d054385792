import { type ConfigLayer, greengrassLayer } from '../config/load.js';

/** True when a Greengrass nucleus started us (it sets these for every component). */
export function underGreengrass(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT && env.SVCUID);
}

/** The component configuration as a config layer, read once over IPC; undefined outside Greengrass. */
export async function readGreengrassLayer(env: NodeJS.ProcessEnv): Promise<ConfigLayer | undefined> {
  if (!underGreengrass(env)) return undefined;
  const { connectIpc, getComponentConfiguration } = await import('./adapters/ipc-client.js');
  const client = await connectIpc(env);
  try {
    return greengrassLayer(await getComponentConfiguration(client));
  } finally {
    await client.close().catch(() => undefined);
  }
}
