import type { OutboxStats } from '../outbox/outbox.js';
import type { StageTimings, VerdictBasis, VerdictOutcome } from '../core/verdict.js';

/**
 * The MQTT API of the agent, in one place: every topic we publish and the payload type it carries.
 * Topics live under `<topicPrefix>/<thingName>/`; camera topics add `<cameraId>/`.
 *
 *   <prefix>/<thing>/<camera>/verdict   VerdictPayload   every verdict (QoS 1, through the outbox)
 *   <prefix>/<thing>/<camera>/reject    RejectPayload    rejects only: local path at once + cloud copy via outbox
 *   <prefix>/<thing>/<camera>/mask      MaskPayload      when the model produced a mask
 *   <prefix>/<thing>/state              StatePayload     retained online/offline/stopped (+ last will / heartbeat)
 *   <prefix>/<thing>/health             HealthPayload    periodic
 *
 * And the topics we listen on (inbound; parsed strictly where they are handled):
 *
 *   <prefix>/<thing>/<camera>/trigger   {"partId"?}      PLC trigger: inspect one part (pipeline/remote-triggers.ts)
 *   <prefix>/<thing>/command/request    CommandRequest   remote command; answered on .../command/response
 *
 * Every payload is JSON with `"v": 1`; `id` is the idempotency key consumers use to drop duplicates.
 */
export interface TopicMap {
  verdict: VerdictPayload;
  reject: RejectPayload;
  mask: MaskPayload;
  state: StatePayload;
  health: HealthPayload;
}
export type TopicKind = keyof TopicMap;
export const CAMERA_TOPICS = ['verdict', 'reject', 'mask'] as const satisfies readonly TopicKind[];
export const AGENT_TOPICS = ['state', 'health'] as const satisfies readonly TopicKind[];
export type CameraTopicKind = (typeof CAMERA_TOPICS)[number];
export type AgentTopicKind = (typeof AGENT_TOPICS)[number];

export const PAYLOAD_VERSION = 1;

/** The shape of Lookout for Vision's cloud `DetectAnomalyResult`, so existing consumers keep working. */
export interface DetectAnomalyResult {
  Source: { Type: 'direct' };
  IsAnomalous: boolean;
  Confidence: number | null;
  /** Segmentation only; the first entry is the background. */
  Anomalies?: { Name: string; PixelAnomaly: { TotalPercentageArea: number; Color: string } }[];
  /** Base64 PNG, only when small enough to travel inline. */
  AnomalyMask?: string;
}

/** A mask too large to travel inline: where to fetch it (a file name under the masks directory or a URL). */
export interface MaskReference {
  ref: string;
  bytes: number;
  format: 'png';
}

interface Envelope<K extends TopicKind> {
  v: typeof PAYLOAD_VERSION;
  kind: K;
  /** Idempotency key: `<verdictId>:<kind>` for camera topics. */
  id: string;
  thingName: string;
  /** ISO time the message was made. */
  sentAt: string;
}

export interface VerdictPayload extends Envelope<'verdict'> {
  verdictId: string;
  cameraId: string;
  partId?: string;
  frameId: string;
  modelComponent: string;
  outcome: VerdictOutcome;
  basis: VerdictBasis;
  reason?: string;
  error?: { code: string; message: string };
  anomalyScore?: number;
  anomalyThreshold?: number;
  DetectAnomalyResult: DetectAnomalyResult;
  /** Present when the mask did not travel inline. */
  maskRef?: MaskReference;
  capturedAt: string;
  decidedAt: string;
  timings: StageTimings;
}

export interface RejectPayload extends Envelope<'reject'> {
  verdictId: string;
  cameraId: string;
  partId?: string;
  frameId: string;
  basis: VerdictBasis;
  reason?: string;
  isAnomalous: boolean;
  confidence?: number;
  capturedAt: string;
  decidedAt: string;
}

export interface MaskPayload extends Envelope<'mask'> {
  verdictId: string;
  cameraId: string;
  partId?: string;
  /** Base64 PNG when small enough; otherwise see `maskRef`. */
  png?: string;
  maskRef?: MaskReference;
}

export type AgentState = 'online' | 'offline' | 'stopped';

export interface StatePayload extends Envelope<'state'> {
  state: AgentState;
  /** Set on heartbeats (transports without a last will): consumers treat the agent as gone after 3 missed ones. */
  heartbeatIntervalMs?: number;
}

export interface HealthPayload extends Envelope<'health'> {
  uptimeSec: number;
  outbox: OutboxStats;
  /** Whatever the composition root adds: cameras, model, relay and publisher state. */
  details?: Record<string, unknown>;
}

/** Builds topic names for one agent. */
export class Topics {
  readonly base: string;

  constructor(
    readonly prefix: string,
    readonly thingName: string,
  ) {
    this.base = `${prefix.replace(/\/+$/, '')}/${thingName}`;
  }

  camera(kind: CameraTopicKind, cameraId: string): string {
    return `${this.base}/${cameraId}/${kind}`;
  }

  agent(kind: AgentTopicKind): string {
    return `${this.base}/${kind}`;
  }

  /** One filter for every camera's trigger topic, and the camera a trigger topic names. */
  triggers(): { filter: string; cameraOf: (topic: string) => string | undefined } {
    const head = `${this.base}/`;
    const tail = '/trigger';
    return {
      filter: `${head}+${tail}`,
      cameraOf: (topic) => (topic.startsWith(head) && topic.endsWith(tail) && topic.length > head.length + tail.length ? topic.slice(head.length, -tail.length) : undefined),
    };
  }

  /** Remote commands: requests in, responses out. */
  commands(): { request: string; response: string } {
    return { request: `${this.base}/command/request`, response: `${this.base}/command/response` };
  }

  /** Subscription filter for everything this agent publishes (consumers, tests). */
  all(): string {
    return `${this.base}/#`;
  }
}
