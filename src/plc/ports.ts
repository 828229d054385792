import type { PlcStatus } from '../core/inspector-status.js';
import type { Verdict } from '../core/verdict.js';

/** What a PLC protocol client counts (core/inspector-status.ts: status and metrics show it). */
export type PlcStats = PlcStatus;

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
