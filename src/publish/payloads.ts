import { LookoutError } from '../core/errors.js';
import type { Verdict } from '../core/verdict.js';
import type { OutboxStats } from '../outbox/outbox.js';
import { assertPayloadSize, MAX_PAYLOAD_BYTES } from '../core/publish-limits.js';
import {
  type AgentState,
  type DetectAnomalyResult,
  type HealthPayload,
  type MaskPayload,
  type MaskReference,
  PAYLOAD_VERSION,
  type RejectPayload,
  type StatePayload,
  type TopicKind,
  type TopicMap,
  type VerdictPayload,
} from './topics.js';

export interface PayloadContext {
  readonly thingName: string;
  /** Base64 masks travel inline only up to this many characters (config publish.maxInlineMaskBytes). */
  readonly maxInlineMaskBytes: number;
  readonly now?: () => number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Message ids (idempotency keys) for the camera topics of one verdict. */
export function messageId(verdictId: string, kind: 'verdict' | 'reject' | 'mask'): string {
  return `${verdictId}:${kind}`;
}

function envelope<K extends TopicKind>(kind: K, id: string, ctx: PayloadContext): { v: 1; kind: K; id: string; thingName: string; sentAt: string } {
  return { v: PAYLOAD_VERSION, kind, id, thingName: ctx.thingName, sentAt: iso(ctx.now?.() ?? Date.now()) };
}

function maskReference(verdict: Verdict, bytes: number): MaskReference | undefined {
  if (!verdict.mask) return undefined;
  return { ref: verdict.mask.png, bytes: verdict.mask.bytes || bytes, format: 'png' };
}

/** Inline base64 of the mask when it fits, else undefined. */
function inlineMask(maskPng: Buffer | undefined, ctx: PayloadContext): string | undefined {
  if (!maskPng) return undefined;
  const size = Math.ceil(maskPng.length / 3) * 4;
  return size <= ctx.maxInlineMaskBytes ? maskPng.toString('base64') : undefined;
}

/** LfV's cloud result: background first, then the defect classes (fractions in [0,1], `#RRGGBB`). */
export function detectAnomalyResult(verdict: Verdict, maskBase64?: string): DetectAnomalyResult {
  const segmentation = verdict.anomalies.length > 0 || verdict.mask !== undefined;
  const defectArea = verdict.anomalies.reduce((sum, a) => sum + a.totalPercentageArea, 0);
  return {
    Source: { Type: 'direct' },
    IsAnomalous: verdict.isAnomalous,
    Confidence: verdict.confidence ?? null,
    ...(segmentation
      ? {
          Anomalies: [
            { Name: 'background', PixelAnomaly: { TotalPercentageArea: Math.max(0, 1 - defectArea), Color: '#FFFFFF' } },
            ...verdict.anomalies.map((a) => ({ Name: a.name, PixelAnomaly: { TotalPercentageArea: a.totalPercentageArea, Color: a.hexColor } })),
          ],
        }
      : {}),
    ...(maskBase64 ? { AnomalyMask: maskBase64 } : {}),
  };
}

/** The verdict message. The mask goes inline (AnomalyMask) only when small; otherwise `maskRef` names it. */
export function verdictPayload(verdict: Verdict, maskPng: Buffer | undefined, ctx: PayloadContext): VerdictPayload {
  const build = (inline: string | undefined): VerdictPayload => {
    const ref = inline ? undefined : maskReference(verdict, maskPng?.length ?? 0);
    return {
      ...envelope('verdict', messageId(verdict.id, 'verdict'), ctx),
      verdictId: verdict.id,
      cameraId: verdict.cameraId,
      ...(verdict.partId !== undefined ? { partId: verdict.partId } : {}),
      frameId: verdict.frameId,
      modelComponent: verdict.modelComponent,
      outcome: verdict.outcome,
      basis: verdict.basis,
      ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}),
      ...(verdict.error ? { error: { code: verdict.error.code, message: verdict.error.message } } : {}),
      ...(verdict.anomalyScore !== undefined ? { anomalyScore: verdict.anomalyScore } : {}),
      ...(verdict.anomalyThreshold !== undefined ? { anomalyThreshold: verdict.anomalyThreshold } : {}),
      DetectAnomalyResult: detectAnomalyResult(verdict, inline),
      ...(ref ? { maskRef: ref } : {}),
      capturedAt: iso(verdict.capturedAt),
      decidedAt: iso(verdict.decidedAt),
      timings: { ...verdict.timings },
    };
  };
  const inline = inlineMask(maskPng, ctx);
  const payload = build(inline);
  // The mask fits on its own but not with everything else: send the reference instead.
  if (inline && Buffer.byteLength(JSON.stringify(payload)) >= MAX_PAYLOAD_BYTES) return build(undefined);
  return payload;
}

/** The PLC reject signal: small, flat, everything a line controller needs to kick the part. */
export function rejectPayload(verdict: Verdict, ctx: PayloadContext): RejectPayload {
  if (verdict.outcome !== 'reject') {
    throw new LookoutError('PAYLOAD_INVALID', `verdict ${verdict.id} is "${verdict.outcome}", not a reject`);
  }
  return {
    ...envelope('reject', messageId(verdict.id, 'reject'), ctx),
    verdictId: verdict.id,
    cameraId: verdict.cameraId,
    ...(verdict.partId !== undefined ? { partId: verdict.partId } : {}),
    frameId: verdict.frameId,
    basis: verdict.basis,
    ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}),
    isAnomalous: verdict.isAnomalous,
    ...(verdict.confidence !== undefined ? { confidence: verdict.confidence } : {}),
    capturedAt: iso(verdict.capturedAt),
    decidedAt: iso(verdict.decidedAt),
  };
}

/** The mask message: the PNG inline when small, else a reference to the file. Undefined when there is no mask. */
export function maskPayload(verdict: Verdict, maskPng: Buffer | undefined, ctx: PayloadContext): MaskPayload | undefined {
  if (!maskPng && !verdict.mask) return undefined;
  const inline = inlineMask(maskPng, ctx);
  const ref = inline ? undefined : maskReference(verdict, maskPng?.length ?? 0);
  if (!inline && !ref) return undefined;
  return {
    ...envelope('mask', messageId(verdict.id, 'mask'), ctx),
    verdictId: verdict.id,
    cameraId: verdict.cameraId,
    ...(verdict.partId !== undefined ? { partId: verdict.partId } : {}),
    ...(inline ? { png: inline } : {}),
    ...(ref ? { maskRef: ref } : {}),
  };
}

export function statePayload(state: AgentState, ctx: PayloadContext, heartbeatIntervalMs?: number): StatePayload {
  const at = ctx.now?.() ?? Date.now();
  return {
    ...envelope('state', `state:${ctx.thingName}:${at}`, ctx),
    state,
    ...(heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs } : {}),
  };
}

export function healthPayload(outbox: OutboxStats, uptimeSec: number, ctx: PayloadContext, details?: Record<string, unknown>): HealthPayload {
  const at = ctx.now?.() ?? Date.now();
  return {
    ...envelope('health', `health:${ctx.thingName}:${at}`, ctx),
    uptimeSec,
    outbox,
    ...(details ? { details } : {}),
  };
}

/** JSON bytes of a payload; refuses (PAYLOAD_INVALID) anything at or above IoT Core's 128 KiB. */
export function encodePayload<K extends TopicKind>(kind: K, payload: TopicMap[K]): Buffer {
  const bytes = Buffer.from(JSON.stringify(payload));
  assertPayloadSize(bytes.length, `${kind} payload ${payload.id}`);
  return bytes;
}
