import * as grpc from '@grpc/grpc-js';
import { type ErrorCode, LookoutError, toLookoutError } from '../../core/errors.js';
import { edgeAgentServiceDefinition, MAX_MESSAGE_BYTES } from '../../edge-agent/adapters/edge-agent-proto.js';
import { WANT_MASK_METADATA } from '../../edge-agent/edge-agent-wire.js';
import type { RpcServer, RpcServerOptions } from '../rpc-server.js';
import { ReadAdmission } from './read-admission.js';

/** How our errors leave the server: exactly the status codes AWS's agent uses. */
const STATUS_FOR: Partial<Record<ErrorCode, grpc.status>> = {
  INFERENCE_INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  MODEL_NOT_FOUND: grpc.status.NOT_FOUND,
  MODEL_NOT_RUNNING: grpc.status.FAILED_PRECONDITION,
  QUEUE_FULL: grpc.status.RESOURCE_EXHAUSTED,
  REQUEST_READ_TIMEOUT: grpc.status.RESOURCE_EXHAUSTED,
  INFERENCE_OVERLOADED: grpc.status.RESOURCE_EXHAUSTED,
  RUNTIME_INFER_FAILED: grpc.status.INTERNAL,
  INFERENCE_TIMEOUT: grpc.status.DEADLINE_EXCEEDED,
  INTERNAL: grpc.status.INTERNAL,
};

export function grpcStatusFor(err: unknown): grpc.status {
  return STATUS_FOR[toLookoutError(err).code] ?? grpc.status.UNKNOWN;
}

export type GrpcEdgeAgentServerDeps = RpcServerOptions;

type Unary = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => void;

/** The grpc-js side of the server: registers the five RPCs, binds, shuts down. */
export class GrpcEdgeAgentServer implements RpcServer {
  private server: grpc.Server | undefined;
  /** Calls not answered yet, each with the way to answer it UNAVAILABLE when the shutdown grace ends. */
  private readonly unanswered = new Set<() => void>();
  private readonly readAdmission: ReadAdmission;

  constructor(private readonly deps: GrpcEdgeAgentServerDeps) {
    this.readAdmission = new ReadAdmission({
      admission: deps.admission,
      path: (edgeAgentServiceDefinition().DetectAnomalies as grpc.MethodDefinition<unknown, unknown>).path,
      maxMessageBytes: MAX_MESSAGE_BYTES,
      readTimeoutMs: deps.readTimeoutMs,
      statusFor: grpcStatusFor,
    });
  }

  /** Binds and serves; resolves with the bound port (0 for Unix sockets). */
  async start(): Promise<number> {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc.enable_channelz': 0,
      // Announced to every client connection: a client holds its further calls until one ends; a client
      // that opens more anyway loses its connection (GOAWAY), other connections go on.
      'grpc.max_concurrent_streams': this.deps.connectionCalls,
      // DetectAnomalies reserves its largest request before grpc-js reads it (read-admission.ts).
      interceptors: [this.readAdmission.interceptor],
    });
    const h = this.deps.handlers;
    server.addService(edgeAgentServiceDefinition(), {
      DetectAnomalies: this.unary('DetectAnomalies', (req, call) => {
        const want = call.metadata.get(WANT_MASK_METADATA)[0];
        const gaveUp = new AbortController();
        let settled = false;
        // grpc-js emits 'cancelled' whenever the stream closes, after a normal answer too: only a call still
        // running has been given up (aborting a finished one costs a DOMException per call, for nothing)
        call.once('cancelled', () => settled || gaveUp.abort());
        const admitted = this.readAdmission.claim(req);
        return h
          .detectAnomalies(req as never, { wantMask: want !== '0', cancelled: () => call.cancelled, signal: gaveUp.signal, ...(admitted ? { admitted } : {}) })
          .finally(() => (settled = true));
      }),
      StartModel: this.unary('StartModel', (req) => h.startModel(req as never)),
      StopModel: this.unary('StopModel', (req) => h.stopModel(req as never)),
      ListModels: this.unary('ListModels', () => h.listModels()),
      DescribeModel: this.unary('DescribeModel', (req) => h.describeModel(req as never)),
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(this.deps.address, grpc.ServerCredentials.createInsecure(), (err, boundPort) => {
        if (err) reject(new LookoutError('INTERNAL', `cannot listen on ${this.deps.address}: ${err.message}`, { cause: err }));
        else resolve(boundPort);
      });
    });
    this.server = server;
    return port;
  }

  private unary(method: string, fn: (req: unknown, call: grpc.ServerUnaryCall<unknown, unknown>) => Promise<unknown>): Unary {
    return (call, callback) => {
      let answered = false;
      const answer = (err: Partial<grpc.StatusObject> | null, res?: unknown): void => {
        if (answered) return;
        answered = true;
        this.unanswered.delete(cut);
        callback(err, res);
      };
      const cut = (): void => answer({ code: grpc.status.UNAVAILABLE, details: 'the model server is shutting down' });
      this.unanswered.add(cut);
      fn(call.request, call).then(
        (res) => answer(null, res),
        (err: unknown) => {
          const e = toLookoutError(err);
          const code = grpcStatusFor(e);
          const log = this.deps.log;
          if (code === grpc.status.INTERNAL || code === grpc.status.UNKNOWN) log.error({ method, err: e }, 'rpc failed');
          else log.debug({ method, code: e.code, msg: e.message }, 'rpc refused');
          answer({ code, details: e.message });
        },
      );
    };
  }

  /**
   * Refuses new calls, lets running ones finish for up to `graceMs`, then cuts the rest, those still waiting
   * for bytes or being read included: they are answered UNAVAILABLE here (grpc-js's forceShutdown does not
   * reach sessions when channelz is off, and an open call would keep its connection, and the process, alive).
   * Resolves with how many calls were cut.
   */
  async stop(graceMs: number): Promise<number> {
    const server = this.server;
    this.server = undefined;
    if (!server) return 0;
    return new Promise<number>((resolve) => {
      const timer = setTimeout(() => {
        const cuts = [...this.unanswered];
        for (const cut of cuts) cut();
        const unread = this.readAdmission.cutAll('the model server is shutting down');
        server.forceShutdown();
        resolve(cuts.length + unread);
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve(0);
      });
    });
  }
}

/** The RpcServer port's grpc-js implementation, for the composition root. */
export const createGrpcEdgeAgentServer = (options: RpcServerOptions): RpcServer => new GrpcEdgeAgentServer(options);
