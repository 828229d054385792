import * as grpc from '@grpc/grpc-js';
import { type ErrorCode, LookoutError } from '../../core/errors.js';
import type { EdgeAgentRpc } from '../edge-agent-rpc.js';
import { WANT_MASK_METADATA } from '../../edge-agent/edge-agent-wire.js';
import { edgeAgentServiceDefinition, MAX_MESSAGE_BYTES } from '../../edge-agent/adapters/edge-agent-proto.js';

/** gRPC status → our error codes; anything not listed is INFERENCE_FAILED. */
const CODE_FOR_STATUS: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.UNAVAILABLE]: 'INFERENCE_UNAVAILABLE',
  [grpc.status.RESOURCE_EXHAUSTED]: 'INFERENCE_OVERLOADED',
  [grpc.status.DEADLINE_EXCEEDED]: 'INFERENCE_TIMEOUT',
  [grpc.status.INVALID_ARGUMENT]: 'INFERENCE_INVALID_ARGUMENT',
  [grpc.status.NOT_FOUND]: 'MODEL_NOT_FOUND',
  [grpc.status.FAILED_PRECONDITION]: 'MODEL_NOT_RUNNING',
};

export function errorFromStatus(err: grpc.ServiceError, method: string, target: string): LookoutError {
  const code = CODE_FOR_STATUS[err.code as grpc.status] ?? 'INFERENCE_FAILED';
  return new LookoutError(code, `${method} failed: ${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`, {
    cause: err,
    details: { method, grpcStatus: grpc.status[err.code] ?? err.code, target },
  });
}

type UnaryMethod = (req: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => grpc.ClientUnaryCall;

/**
 * One long-lived grpc-js channel to `target` (`unix:///path.sock` or `host:port`). grpc-js reconnects on
 * its own after the agent restarts; reconnect backoff is kept short so a restarted local agent is found
 * within a second or two. Calls made while disconnected fail fast with UNAVAILABLE (no wait-for-ready),
 * which our retry loop handles. `beforeCall` runs before every call and may refuse it by throwing (the
 * socket owner check: every connection attempt starts from a call).
 */
export function createEdgeAgentRpc(target: string, options: { readonly beforeCall?: () => void } = {}): EdgeAgentRpc {
  const Client = grpc.makeGenericClientConstructor(edgeAgentServiceDefinition(), 'EdgeAgent');
  const client = new Client(target, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 2_000,
    'grpc.enable_retries': 0,
    // channelz keeps per-call statistics nobody reads here; off, each call costs less CPU
    'grpc.enable_channelz': 0,
  });
  const methods = client as unknown as Record<string, UnaryMethod>;

  function call<T>(method: string, req: unknown, deadlineMs: number, metadata = new grpc.Metadata()): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fn = methods[method];
      if (!fn) {
        reject(new LookoutError('INTERNAL', `no method ${method}`));
        return;
      }
      try {
        options.beforeCall?.();
      } catch (err) {
        reject(err as Error);
        return;
      }
      fn.call(client, req, metadata, { deadline: Date.now() + deadlineMs }, (err, res) => {
        if (err) reject(errorFromStatus(err, method, target));
        else resolve(res as T);
      });
    });
  }

  return {
    detectAnomalies(req, options) {
      const md = new grpc.Metadata();
      if (!options.wantMask) md.set(WANT_MASK_METADATA, '0');
      return call('DetectAnomalies', req, options.deadlineMs, md);
    },
    startModel: (req, o) => call('StartModel', req, o.deadlineMs),
    stopModel: (req, o) => call('StopModel', req, o.deadlineMs),
    listModels: (o) => call('ListModels', {}, o.deadlineMs),
    describeModel: (req, o) => call('DescribeModel', req, o.deadlineMs),
    close: () => client.close(),
  };
}
