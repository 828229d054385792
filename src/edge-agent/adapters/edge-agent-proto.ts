import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { LookoutError } from '../../core/errors.js';
import { findInstalledFile } from '../../system/installed-file.js';

/**
 * Loads proto/edge-agent.proto once for both our client and our server.
 *
 * Options: field names as on the wire (keepCase), uint64 as JS numbers (shm sizes stay far below 2^53),
 * enums as numbers (they equal ModelStatus), defaults filled in, and the `oneofs` virtual field. Proto3
 * `optional` fields (anomaly_score / anomaly_threshold) live in synthetic oneofs, which protobufjs leaves
 * out of `defaults`: an absent score decodes as undefined, never as 0.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: Number,
  defaults: true,
  oneofs: true,
};

export const EDGE_AGENT_SERVICE = 'AWS.LookoutVision.EdgeAgent';

/** Large enough for a 4096x4096 RGB888 bitmap inline, plus the protobuf and gRPC framing. */
export const MAX_MESSAGE_BYTES = 4096 * 4096 * 3 + 1024 * 1024;

/** Finds proto/edge-agent.proto above this module (works from src/ under tsx and from dist/src/ once built). */
export function edgeAgentProtoPath(): string {
  const path = findInstalledFile('proto/edge-agent.proto');
  if (path === undefined) throw new LookoutError('INTERNAL', 'proto/edge-agent.proto not found above the installation directory');
  return path;
}

let cached: grpc.ServiceDefinition | undefined;

export function edgeAgentServiceDefinition(): grpc.ServiceDefinition {
  if (!cached) {
    const packageDefinition = protoLoader.loadSync(edgeAgentProtoPath(), PROTO_LOADER_OPTIONS);
    const service = packageDefinition[EDGE_AGENT_SERVICE];
    if (!service || !('DetectAnomalies' in service)) throw new LookoutError('INTERNAL', `${EDGE_AGENT_SERVICE} missing from the proto`);
    cached = service as unknown as grpc.ServiceDefinition;
  }
  return cached;
}
