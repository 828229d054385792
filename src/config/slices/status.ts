import { isIP } from 'node:net';
import { z } from 'zod';
import { byteSize, durationMs, hostAddress, port, positiveInt, secret } from './common.js';

/** Remote commands over MQTT: `<topicPrefix>/<thing>/command/request` → `.../command/response`. */
const commandsSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /**
     * Accept commands on the local path (a plant MQTT broker or Greengrass local pub/sub) when there is
     * no cloud path to take them from. Off by default: whoever can publish there could pause cameras or
     * set thresholds.
     */
    allowLocal: z.boolean().default(false),
    /** Requests larger than this are answered with PAYLOAD_INVALID without being parsed. */
    maxRequestBytes: byteSize.min(64).max(128 * 1024).default(8 * 1024),
    /** Commands handled at once; more are answered with QUEUE_FULL. */
    maxInFlight: positiveInt.max(64).default(4),
    /** Deadline for one command (a snapshot runs a whole inspection). */
    timeoutMs: durationMs.min(100).default(30_000),
  })
  .prefault({});

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice('::ffff:'.length));
  return false;
}

/**
 * The rules across keys that the status server would refuse at start-up, as `[path, message]`.
 * The schema applies them, so `config validate` refuses exactly what `run` refuses.
 */
export function statusRuleProblems(value: {
  enabled: boolean;
  host: string;
  token?: string | undefined;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxEventClients: number;
}): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (value.maxConnectionsPerAddress > value.maxConnections) {
    problems.push(['maxConnectionsPerAddress', `must not exceed status.maxConnections (${value.maxConnections})`]);
  }
  if (value.maxEventClients >= value.maxConnections) {
    problems.push(['maxEventClients', `must be below status.maxConnections (${value.maxConnections}): live clients would take every connection`]);
  }
  if (value.enabled && !isLoopbackHost(value.host) && value.token === undefined) {
    problems.push(['token', `required when status.host (${value.host}) is not a loopback address`]);
  }
  return problems;
}

/** The operator surface: status page, metrics, health, HTTP trigger and remote commands. */
export const statusSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    host: hostAddress.default('127.0.0.1'),
    port: port.default(8080),
    /** Required when `host` is not a loopback address; then enforced on every route but /healthz. */
    token: secret.optional(),
    /**
     * Serve HTTPS with this PEM certificate (chain) and unencrypted PEM key, both read at start-up; the
     * session cookie is then `Secure` and responses carry Strict-Transport-Security. Use it whenever
     * `host` is not a loopback address: without it the token crosses the network in clear.
     */
    tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    /** Largest JSON body a POST may carry. */
    maxBodyBytes: byteSize.min(64).max(1024 * 1024).default(16 * 1024),
    /** Time allowed for a client to send the request headers / the whole request. */
    headersTimeoutMs: durationMs.min(100).max(60_000).default(5_000),
    requestTimeoutMs: durationMs.min(100).max(300_000).default(15_000),
    /** An idle keep-alive connection is closed after this. */
    keepAliveTimeoutMs: durationMs.min(100).max(60_000).default(2_000),
    /**
     * Open connections at once, and from one remote address; more are closed as they are accepted, so
     * idle clients cannot use up the file descriptors the cameras and the outbox need.
     */
    maxConnections: positiveInt.max(4096).default(256),
    maxConnectionsPerAddress: positiveInt.max(4096).default(32),
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
  .superRefine((value, ctx) => {
    for (const [path, message] of statusRuleProblems(value)) ctx.addIssue({ code: 'custom', path: [path], message });
  })
  .prefault({});
export type StatusConfig = z.infer<typeof statusSchema>;
export type CommandsConfig = StatusConfig['commands'];
