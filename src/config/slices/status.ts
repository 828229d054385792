import { z } from 'zod';
import { byteSize, durationMs, hostAddress, port, positiveInt, secret } from './common.js';

/** Remote commands over MQTT: `<topicPrefix>/<thing>/command/request` → `.../command/response`. */
const commandsSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Requests larger than this are answered with PAYLOAD_INVALID without being parsed. */
    maxRequestBytes: byteSize.min(64).max(128 * 1024).default(8 * 1024),
    /** Commands handled at once; more are answered with QUEUE_FULL. */
    maxInFlight: positiveInt.max(64).default(4),
    /** Deadline for one command (a snapshot runs a whole inspection). */
    timeoutMs: durationMs.min(100).default(30_000),
  })
  .prefault({});

/** The operator surface: status page, metrics, health, HTTP trigger and remote commands. */
export const statusSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    host: hostAddress.default('127.0.0.1'),
    port: port.default(8080),
    /** Required when `host` is not a loopback address; then enforced on every route but /healthz. */
    token: secret.optional(),
    /** Largest JSON body a POST may carry. */
    maxBodyBytes: byteSize.min(64).max(1024 * 1024).default(16 * 1024),
    /** Time allowed for a client to send the request headers / the whole request. */
    headersTimeoutMs: durationMs.min(100).default(10_000),
    requestTimeoutMs: durationMs.min(100).default(30_000),
    /** Deadline for `POST /api/cameras/:id/trigger` (a whole inspection). */
    triggerTimeoutMs: durationMs.min(100).default(30_000),
    /** Live dashboard clients (server-sent events) at once; more are refused with 503. */
    maxEventClients: positiveInt.max(256).default(16),
    /** A live client whose unsent backlog passes this is dropped rather than buffered. */
    maxEventBacklogBytes: byteSize.min(1024).default(256 * 1024),
    /** How often live clients get a status snapshot (doubles as heartbeat). */
    statusIntervalMs: durationMs.min(50).default(2_000),
    commands: commandsSchema,
  })
  .prefault({});
export type StatusConfig = z.infer<typeof statusSchema>;
export type CommandsConfig = StatusConfig['commands'];
