import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_PATH, tempDir } from './edge-agent-peer.js';

/**
 * Another vendor's Edge Agent at the protocol level: a bare grpc-js server built from the proto file with
 * handlers a test writes, to play agents that behave unlike ours (an older agent without
 * anomaly_score/threshold, one that ignores anomaly_mask_params and answers the mask inline, one that
 * answers scripted status codes).
 */

export type Handler = (request: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>;

export class StatusError extends Error {
  constructor(
    readonly code: grpc.status,
    message = grpc.status[code] ?? 'error',
  ) {
    super(message);
  }
}

export interface ForeignAgent {
  address: string;
  dir: string;
  /** Every DetectAnomalies request seen, in order. */
  requests: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startForeignAgent(handlers: Partial<Record<string, Handler>>, dir?: string): Promise<ForeignAgent> {
  const where = dir ?? (await tempDir('le-foreign-'));
  const socket = join(where, 'agent.sock');
  const def = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  const service = (grpc.loadPackageDefinition(def) as unknown as { AWS: { LookoutVision: { EdgeAgent: { service: grpc.ServiceDefinition } } } }).AWS.LookoutVision.EdgeAgent.service;
  const requests: Record<string, unknown>[] = [];
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 << 20, 'grpc.max_send_message_length': 64 << 20 });
  const impl: grpc.UntypedServiceImplementation = {};
  for (const method of ['DetectAnomalies', 'StartModel', 'StopModel', 'ListModels', 'DescribeModel']) {
    impl[method] = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      if (method === 'DetectAnomalies') requests.push(call.request);
      const h = handlers[method];
      if (!h) return cb({ code: grpc.status.UNIMPLEMENTED });
      Promise.resolve()
        .then(() => h(call.request))
        .then(
          (res) => cb(null, res),
          (err: unknown) => cb({ code: err instanceof StatusError ? err.code : grpc.status.UNKNOWN, details: (err as Error).message }),
        );
    };
  }
  server.addService(service, impl);
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  return {
    address: `unix://${socket}`,
    dir: where,
    requests,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
