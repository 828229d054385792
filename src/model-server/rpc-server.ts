import type { Logger } from '../core/log.js';
import type { ByteAdmission } from './admission.js';
import type { EdgeAgentHandlers } from './edge-agent-service.js';

/**
 * The port the Edge Agent server listens through: the five RPCs on one address, bound by start() and
 * shut down by stop(). The adapter (grpc-js) is adapters/grpc-server.ts, given by the composition root.
 */
export interface RpcServerOptions {
  /** gRPC address: `unix:/path.sock` or `host:port` (port 0 picks one). */
  readonly address: string;
  readonly handlers: EdgeAgentHandlers;
  readonly log: Logger;
  /** Calls one client connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly connectionCalls: number;
  /** DetectAnomalies calls reserve the largest request here before it is read. */
  readonly admission: ByteAdmission;
  /** Time a DetectAnomalies request may take to arrive once reading began (modelServer.readTimeoutMs). */
  readonly readTimeoutMs: number;
}

export interface RpcServer {
  /** Binds; resolves with the port (0 for a Unix socket). */
  start(): Promise<number>;
  /** Refuses new calls, lets running ones finish within `graceMs`, then cuts them; resolves with how many were cut. */
  stop(graceMs: number): Promise<number>;
}

export type CreateRpcServer = (options: RpcServerOptions) => RpcServer;
