/**
 * The transport a CommandService needs: the composition root implements it over MQTT (mqtt.js
 * adapter) or Greengrass IPC (SubscribeToIoTCore / PublishToIoTCore). Handlers receive raw bytes;
 * every deadline and retry belongs to the implementation.
 */
export interface CommandChannel {
  subscribe(topic: string, handler: (payload: Buffer) => void): Promise<void>;
  publish(topic: string, payload: Buffer): Promise<void>;
}

/** `<prefix>/<thing>/command/request` and `.../command/response` (publish/topics.ts: Topics.commands()). */
export interface CommandTopics {
  readonly request: string;
  readonly response: string;
}
