import { z } from 'zod';
import { durationMs, hostAddress, port } from './common.js';

const mqttBroker = z.strictObject({
  host: hostAddress.default('127.0.0.1'),
  port: port.default(1883),
  /** mTLS (IoT Core). When absent the connection is plain TCP (local brokers only). */
  tls: z
    .strictObject({
      certPath: z.string().min(1),
      keyPath: z.string().min(1),
      caPath: z.string().min(1).optional(),
    })
    .optional(),
  clientId: z.string().min(1).max(128).optional(),
  /** 5 (MQTT 5) or 4 (MQTT 3.1.1, for brokers without MQTT 5 such as the demo's embedded one). */
  protocolVersion: z.union([z.literal(5), z.literal(4)]).default(5),
  keepAliveSec: z.number().int().min(5).max(1200).default(30),
  connectTimeoutMs: durationMs.default(10_000),
});

export const publishSchema = z
  .strictObject({
    /** Topic prefix; the thing name follows it: `<prefix>/<thing>/<camera>/verdict`. */
    topicPrefix: z.string().regex(/^[A-Za-z0-9_/-]{1,64}$/, 'letters, digits, _ - /; no wildcards').default('lookout'),
    /** Cloud path: Greengrass IPC (PublishToIoTCore), direct MQTT 5, or none. */
    cloud: z.enum(['greengrass', 'mqtt', 'none']).default('none'),
    /** Local path for reject signals and local consumers: Greengrass local pub/sub, a local MQTT broker, or none. */
    local: z.enum(['greengrass', 'mqtt', 'none']).default('none'),
    mqtt: mqttBroker.prefault({}),
    localMqtt: mqttBroker.prefault({}),
    /**
     * Retain the `state` topic (and the last will) on the cloud path. AWS IoT Core refuses a retained publish
     * unless the thing's policy allows `iot:RetainPublish`, which the default Greengrass thing policy does not,
     * and it answers a refused publish by closing the connection (the nucleus's, shared by every component).
     * Turn on only after adding that permission. The local path always retains.
     */
    cloudRetain: z.boolean().default(false),
    publishTimeoutMs: durationMs.default(10_000),
    healthIntervalMs: durationMs.default(60_000),
    /** Masks are embedded as PNG only below this size; otherwise a reference is sent. */
    maxInlineMaskBytes: z.number().int().min(0).max(100 * 1024).default(64 * 1024),
  })
  .prefault({});
export type PublishConfig = z.infer<typeof publishSchema>;
