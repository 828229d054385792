import { type ConfigLayer, greengrassLayer } from '../config/load.js';
import type { NucleusIpc } from './nucleus-ipc.js';

/** True when a Greengrass nucleus started us (it sets these for every component). */
export function underGreengrass(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT && env.SVCUID);
}

/**
 * Follows configuration changes made by deployments: on every SubscribeToConfigurationUpdate event,
 * reads the whole configuration again (the event only names the key that changed) and hands the new
 * layer to `onChange` with the changed key path. Returns the unsubscribe function.
 */
export function watchGreengrassConfiguration(
  ipc: NucleusIpc,
  onChange: (layer: ConfigLayer, changedKeyPath: readonly string[]) => void,
  onError: (err: unknown) => void = () => undefined,
): () => void {
  return ipc.subscribeToConfigurationUpdate((keyPath) => {
    ipc.getConfiguration([]).then(
      (value) => onChange(greengrassLayer(value), keyPath),
      (err: unknown) => onError(err),
    );
  });
}
