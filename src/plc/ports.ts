import type { Verdict } from '../core/verdict.js';

/** What a PLC protocol client counts; health and /api show it per protocol. */
export interface PlcStats {
  /** `up` once the PLC answered, `down` after a failed request until it answers again; `stopped` after stop(). */
  readonly state: 'connecting' | 'up' | 'down' | 'stopped';
  /** Verdict writes (pulses, handshakes) the PLC acknowledged. */
  readonly written: number;
  /** Write attempts that failed and were tried again (where the protocol client counts them). */
  readonly retried?: number;
  /** Writes given up: refused too often by the PLC, or dropped from a full queue. */
  readonly refused: number;
  readonly dropped: number;
  /** Writes waiting now. */
  readonly queued: number;
  /** Trigger edges seen, and those the inspector did not serve. */
  readonly triggers: number;
  readonly triggersFailed: number;
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: number };
}

/**
 * A PLC as a verdict sink: onVerdict() is called the moment a verdict exists, before the outbox, and
 * returns at once (writes queue inside; a slow or dead PLC never holds a verdict up).
 */
export interface PlcOutput {
  onVerdict(verdict: Verdict): void;
}

/** Starts an inspection of one camera's next frame; the PLC's trigger inputs call it on each edge. */
export type InspectNow = (cameraId: string, partId?: string) => Promise<unknown>;

/** One PLC protocol client with its outputs and trigger inputs. */
export interface PlcClient extends PlcOutput {
  readonly name: string;
  /** Connects and starts polling triggers; never fails on a PLC that is down (it reconnects). */
  start(): Promise<void>;
  /** Stops polling, leaves the reject output off, and closes the connection. */
  stop(reason?: string): Promise<void>;
  stats(): PlcStats;
}
