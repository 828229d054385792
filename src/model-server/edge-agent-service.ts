import { withDeadline } from '../core/deadline.js';
import { isLookoutError, LookoutError, toLookoutError } from '../core/errors.js';
import { rgbByteLength } from '../core/image.js';
import type { Logger } from '../core/log.js';
import type { ModelInfo } from '../core/model.js';
import type {
  WireBitmap,
  WireDescribeModelResponse,
  WireDetectAnomaliesRequest,
  WireDetectAnomaliesResponse,
  WireListModelsResponse,
  WireModelDescription,
  WireModelRequest,
  WireStatusResponse,
} from '../edge-agent/edge-agent-wire.js';
import type { ByteAdmission, ReadReservation, Reservation } from './admission.js';
import type { BoundedExecutor } from './bounded-executor.js';
import { checkComponentName, COMPONENT_NAME, quoteName } from './component-name.js';
import { type CheckedDetectRequest, checkDetectRequest, toWireResult } from './detect-request.js';
import type { ModelSlot } from './model-slot.js';
import { ReadBuffers } from './read-buffers.js';
import { type OpenSegment, openMaskSegment, readSegment, type ShmOwners, writeSegment } from './shm-access.js';

/** Per-call context the transport adapter extracts from the call (metadata). */
export interface CallContext {
  /** False when our own client said it does not want a mask (AWS clients never say so). */
  readonly wantMask: boolean;
  /** True once the caller gave up (deadline passed, cancelled): queued work for it is skipped. */
  readonly cancelled?: () => boolean;
  /** Aborts when the caller gives up: a queued call leaves the queue then, and gives its bytes back. */
  readonly signal?: AbortSignal;
  /** Bytes reserved for the request before it was read: the call keeps what its bitmap needs and must release them. */
  readonly admitted?: ReadReservation;
}

/** The five Edge Agent RPCs, transport-free: wire objects in, wire objects out, LookoutErrors thrown. */
export interface EdgeAgentHandlers {
  detectAnomalies(req: WireDetectAnomaliesRequest, ctx: CallContext): Promise<WireDetectAnomaliesResponse>;
  startModel(req: WireModelRequest): Promise<WireStatusResponse>;
  stopModel(req: WireModelRequest): Promise<WireStatusResponse>;
  listModels(): Promise<WireListModelsResponse>;
  describeModel(req: WireModelRequest): Promise<WireDescribeModelResponse>;
}

/** Hears the outcome of every DetectAnomalies call, queueing included (for metrics). */
export interface DetectObserver {
  observeDetect(component: string, outcome: { readonly seconds: number; readonly error?: LookoutError }): void;
}

export interface EdgeAgentServiceDeps {
  readonly slots: ReadonlyMap<string, ModelSlot>;
  readonly executor: BoundedExecutor;
  /** Every DetectAnomalies call reserves its input bytes here before it is queued (modelServer.queueBytes). */
  readonly admission: ByteAdmission;
  readonly shmDir: string;
  /** Segments owned by other uids are refused (shm-access.ts). */
  readonly shmOwners: ShmOwners;
  /** Time limit of one runtime call (modelServer.inferTimeoutMs). */
  readonly inferTimeoutMs: number;
  readonly log: Logger;
  /** Shared-memory read buffers kept for reuse (one per concurrent inference is enough). */
  readonly readBuffers?: number;
  readonly observer?: DetectObserver;
}

function toWireDescription(info: ModelInfo): WireModelDescription {
  return { model_component: info.component, lookout_vision_model_arn: info.modelArn, status: info.status, status_message: info.statusMessage };
}

export class EdgeAgentService implements EdgeAgentHandlers {
  private readonly buffers: ReadBuffers;
  /** Queued requests dropped because their caller had already given up. */
  skipped = 0;

  constructor(private readonly deps: EdgeAgentServiceDeps) {
    this.buffers = new ReadBuffers(deps.readBuffers ?? 4);
  }

  /** Every RPC that names a model comes through here: the name is checked before it is looked up or echoed. */
  private slot(name: string): ModelSlot {
    const component = checkComponentName(name);
    const slot = this.deps.slots.get(component);
    if (!slot) throw new LookoutError('MODEL_NOT_FOUND', `no model component ${quoteName(component)}`, { details: { component } });
    return slot;
  }

  async startModel(req: WireModelRequest): Promise<WireStatusResponse> {
    return { status: this.slot(req.model_component).start() };
  }

  async stopModel(req: WireModelRequest): Promise<WireStatusResponse> {
    return { status: await this.slot(req.model_component).stop() };
  }

  async listModels(): Promise<WireListModelsResponse> {
    return { models: [...this.deps.slots.values()].map((s) => toWireDescription(s.describe())) };
  }

  async describeModel(req: WireModelRequest): Promise<WireDescribeModelResponse> {
    return { model_description: toWireDescription(this.slot(req.model_component).describe()) };
  }

  async detectAnomalies(req: WireDetectAnomaliesRequest, ctx: CallContext): Promise<WireDetectAnomaliesResponse> {
    const observer = this.deps.observer;
    if (!observer) return this.detect(req, ctx);
    const started = performance.now();
    // A name that is not a component name is counted under one label, never as itself.
    const label = COMPONENT_NAME.test(req.model_component) ? req.model_component : '(invalid)';
    try {
      const response = await this.detect(req, ctx);
      observer.observeDetect(label, { seconds: (performance.now() - started) / 1000 });
      return response;
    } catch (err) {
      observer.observeDetect(label, { seconds: (performance.now() - started) / 1000, error: toLookoutError(err) });
      throw err;
    }
  }

  private async detect(req: WireDetectAnomaliesRequest, ctx: CallContext): Promise<WireDetectAnomaliesResponse> {
    let reservation: Reservation | undefined = ctx.admitted;
    try {
      const queuedOn = this.slot(req.model_component);
      const checked = checkDetectRequest(req, this.deps.shmDir);
      queuedOn.assertRunning();
      const bytes = rgbByteLength(checked.width, checked.height);
      reservation = ctx.admitted ? ctx.admitted.received(bytes) : this.deps.admission.reserve(bytes);
      return await this.queue(req, ctx, queuedOn, checked);
    } finally {
      ctx.admitted?.release();
      reservation?.release();
    }
  }

  private queue(req: WireDetectAnomaliesRequest, ctx: CallContext, queuedOn: ModelSlot, checked: CheckedDetectRequest): Promise<WireDetectAnomaliesResponse> {
    return this.deps.executor.run(async () => {
      if (ctx.cancelled?.()) {
        this.skipped++;
        throw new LookoutError('INFERENCE_TIMEOUT', 'the caller gave up while the request was queued');
      }
      // A live reload may have swapped in a new slot while we waited: use the one serving now. The model
      // may also have been stopped or removed meanwhile (acquire() refuses then).
      const slot = this.deps.slots.get(req.model_component) ?? queuedOn;
      const lease = slot.acquire();
      let maskFile: OpenSegment | undefined;
      let readBuffer: Buffer | undefined;
      let hung = false;
      try {
        const { width, height, source, maskHandle } = checked;
        if (source.kind === 'shm') readBuffer = this.buffers.take(source.handle.size, source.handle.offset);
        const pixels = source.kind === 'inline' ? source.bytes : await readSegment(source.handle, this.deps.shmOwners, 'bitmap', readBuffer);
        // A segmentation model (classes in its manifest) may paint a mask: its segment is opened now, so an
        // unusable one fails the call before the model runs. A classification model paints none (no runtime
        // returns a mask without classes): its segment is left alone, not even opened.
        if (maskHandle && lease.model.manifest.classes.length > 0) maskFile = openMaskSegment(maskHandle, this.deps.shmOwners, 'anomaly_mask_params');
        const wantMask = maskHandle !== undefined || ctx.wantMask;
        let result;
        const inference = lease.model.infer({ width, height, pixels }, { wantMask });
        try {
          result = await withDeadline(inference, this.deps.inferTimeoutMs, `inference on ${slot.component}`, 'INFERENCE_TIMEOUT');
        } catch (err) {
          if (isLookoutError(err, 'INFERENCE_TIMEOUT')) {
            // The slot drops the model (never unloaded) and the runtime keeps the pixels: the read
            // buffer is not reused. The lease is released, so stopping a reloaded model does not wait on it.
            hung = true;
            slot.markHung(`no answer within ${this.deps.inferTimeoutMs} ms`);
            void inference.catch(() => undefined);
          }
          throw toLookoutError(err, 'RUNTIME_INFER_FAILED');
        }
        let mask: WireBitmap | undefined;
        if (result.mask && wantMask) {
          const expected = rgbByteLength(width, height);
          if (result.mask.width !== width || result.mask.height !== height || result.mask.pixels.length !== expected) {
            throw new LookoutError('RUNTIME_INFER_FAILED', `runtime returned a ${result.mask.width}x${result.mask.height} mask for a ${width}x${height} image`);
          }
          if (maskHandle) {
            maskFile ??= openMaskSegment(maskHandle, this.deps.shmOwners, 'anomaly_mask_params');
            await writeSegment(maskFile, maskHandle, result.mask.pixels);
            mask = { width, height, shared_memory_handle: { name: maskHandle.name, offset: maskHandle.offset, size: expected } };
          } else {
            mask = { width, height, byte_data: result.mask.pixels };
          }
        }
        return { detect_anomaly_result: toWireResult(result, lease.model.manifest.threshold, mask) };
      } finally {
        lease.release();
        // Runtimes do not keep image.pixels past infer(): the buffer serves the next call (not a hung one's).
        if (readBuffer && !hung) this.buffers.give(readBuffer);
        maskFile?.close();
      }
    }, ctx.signal);
  }
}
