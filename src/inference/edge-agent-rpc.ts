import type {
  WireDescribeModelResponse,
  WireDetectAnomaliesRequest,
  WireDetectAnomaliesResponse,
  WireListModelsResponse,
  WireModelRequest,
  WireStatusResponse,
} from '../edge-agent/edge-agent-wire.js';

export interface CallOptions {
  readonly deadlineMs: number;
}

/** The narrow view the rest of the client has of the Edge Agent: one promise per RPC, LookoutErrors out. */
export interface EdgeAgentRpc {
  detectAnomalies(req: WireDetectAnomaliesRequest, options: CallOptions & { readonly wantMask: boolean }): Promise<WireDetectAnomaliesResponse>;
  startModel(req: WireModelRequest, options: CallOptions): Promise<WireStatusResponse>;
  stopModel(req: WireModelRequest, options: CallOptions): Promise<WireStatusResponse>;
  listModels(options: CallOptions): Promise<WireListModelsResponse>;
  describeModel(req: WireModelRequest, options: CallOptions): Promise<WireDescribeModelResponse>;
  close(): void;
}

/**
 * Opens the channel to `target` (`unix:///path.sock` or `host:port`); `beforeCall` runs before every call
 * and may refuse it by throwing. The composition root passes adapters/grpc-channel.ts's createEdgeAgentRpc.
 */
export type ConnectEdgeAgent = (target: string, options: { readonly beforeCall?: () => void }) => EdgeAgentRpc;
