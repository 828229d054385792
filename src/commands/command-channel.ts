/**
 * The transport a CommandService needs: the composition root implements it over MQTT (mqtt.js
 * adapter) or Greengrass IPC (SubscribeToIoTCore / PublishToIoTCore). Handlers receive raw bytes;
 * every deadline and retry belongs to the implementation.
 */
export interface CommandChannel {
  subscribe(topic: string, handler: (payload: Buffer) => void): Promise<void>;
  publish(topic: string, payload: Buffer): Promise<void>;
}

export interface CommandTopics {
  readonly request: string;
  readonly response: string;
}

/** `<prefix>/<thing>/command/request` and `.../command/response`. */
export function commandTopics(topicPrefix: string, thingName: string): CommandTopics {
  const base = `${topicPrefix.replace(/\/+$/, '')}/${thingName}/command`;
  return { request: `${base}/request`, response: `${base}/response` };
}
