import type { ModelStatus } from './model.js';
import type { Verdict } from './verdict.js';

/**
 * What the inspector tells its operator surface (status page, metrics, health messages).
 * Produced by the pipeline; consumed by src/status and src/publish. Plain data, no I/O.
 */

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly count: number;
}

export interface CameraStatus {
  readonly id: string;
  readonly paused: boolean;
  readonly triggerMode: boolean;
  readonly source: {
    readonly state: string;
    readonly fps: number;
    readonly framesTotal: number;
    readonly framesDropped: number;
    readonly reconnectsLastHour: number;
    readonly stallsLastHour: number;
    readonly grade: 'good' | 'degraded' | 'bad';
    readonly lastError?: { readonly code: string; readonly message: string; readonly at: number };
    /** The source's own counters (GenICam: incomplete frames, resent and missing packets, refused triggered frames). */
    readonly counters?: Readonly<Record<string, number>>;
  };
  /** Frames the pipeline dropped for backpressure (free-running keeps only the newest). */
  readonly framesSkipped: number;
  readonly triggerQueueDepth: number;
  readonly counts: { readonly pass: number; readonly reject: number; readonly hold: number; readonly errors: number };
  readonly lastVerdict?: Verdict;
  /** Per-camera score threshold override in force (remote command), if any. */
  readonly thresholdOverride?: number;
}

/** What a PLC protocol client counts (`plc.modbus`, `plc.opcua`); health, /api and /metrics show it per protocol. */
export interface PlcStatus {
  /** `up` once the PLC answered, `down` after a failed request until it answers again; `stopped` after stop(). */
  readonly state: 'connecting' | 'up' | 'down' | 'stopped';
  /** Verdict writes (pulses, handshakes) the PLC acknowledged. */
  readonly written: number;
  /** Write attempts that failed and were tried again. */
  readonly retried?: number;
  /** Writes given up: refused too often by the PLC, or dropped from a full queue. */
  readonly refused: number;
  readonly dropped: number;
  /** Writes too late to be of use, dropped (Modbus reject pulses past `reject.maxAgeMs`). */
  readonly expired?: number;
  /** Writes waiting now. */
  readonly queued: number;
  /** Trigger edges seen, and those the inspector did not serve. */
  readonly triggers: number;
  readonly triggersFailed: number;
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: number };
}

/** The evidence store's running counters (`/api/evidence/stats` has the rest); absent when evidence is off. */
export interface EvidenceStatus {
  /** Frames waiting to be encoded and written. */
  readonly queued: number;
  /** Frames not kept because the encode queue was full (or the store was stopping). */
  readonly dropped: number;
  readonly writeErrors: number;
  /** Rejects whose frame was not kept during a reject storm (past `evidence.keep.rejectsPerMinute`), by camera. */
  readonly skipped: Readonly<Record<string, number>>;
}

export interface InspectorStatus {
  readonly thingName: string;
  readonly startedAt: number;
  readonly now: number;
  readonly model: { readonly component: string; readonly status: keyof typeof ModelStatus | 'UNKNOWN'; readonly statusMessage?: string };
  readonly cameras: readonly CameraStatus[];
  /** Per-stage latency in ms over a recent window: preprocess, inference, decide, mask, total. */
  readonly latency: Readonly<Record<string, LatencySummary>>;
  readonly outbox: {
    readonly depth: number;
    readonly oldestAgeMs: number | null;
    readonly evictions: number;
    readonly writable: boolean;
    /** Why not writable (`disk full (free 12 KiB < 64 MiB)`) and since when (ms); absent while writable. */
    readonly unwritable?: { readonly reason: string; readonly since: number };
  };
  /** The last error of each part (`source:cam1`, `inference`, `outbox`, `publish:cloud`, ...). */
  readonly lastErrors: Readonly<Record<string, { readonly code: string; readonly message: string; readonly at: number }>>;
  readonly ready: { readonly model: boolean; readonly sources: boolean; readonly outbox: boolean };
  /** Each configured PLC client by protocol (`modbus`, `opcua`); absent without `plc`. */
  readonly plc?: Readonly<Record<string, PlcStatus>>;
  readonly evidence?: EvidenceStatus;
}

/** What the pipeline emits as it works; the dashboard streams these live. */
export interface InspectorEvents {
  verdict: [verdict: Verdict];
  /** A new preview of a camera is available from latestPreview() (rendered when someone asks for it). */
  preview: [cameraId: string, verdictId: string];
}

/** Remote control of a running inspector (MQTT commands, HTTP triggers). Every method validates its input. */
export interface InspectorControl {
  setThreshold(cameraId: string | '*', threshold: number | null): void;
  pauseCamera(cameraId: string): void;
  resumeCamera(cameraId: string): void;
  /** Capture and inspect one frame now; resolves with its verdict. */
  inspectNow(cameraId: string, partId?: string): Promise<Verdict>;
  reloadModel(): Promise<{ component: string; status: string }>;
  status(): InspectorStatus;
  /** A small JPEG of the camera's latest previewed frame, its mask overlaid when there is one. */
  latestPreview(cameraId: string): Promise<{ jpeg: Buffer; verdictId: string } | undefined>;
}
