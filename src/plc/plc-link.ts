import type { Verdict } from '../core/verdict.js';

/**
 * A PLC connection as the rest of the inspector sees it, whatever the protocol: verdicts go in, triggers
 * come out through the `InspectTrigger` it was given. `onVerdict` is called on the reject path the moment
 * a verdict exists; it only queues and never waits on the PLC, so a slow or dead PLC cannot hold up a
 * verdict, the local reject signal or the outbox.
 */
export interface PlcLink {
  /** Starts connecting in the background: resolves at once, the PLC may be down. */
  start(): Promise<void>;
  onVerdict(verdict: Verdict): void;
  status(): PlcLinkStatus;
  stop(reason?: string): Promise<void>;
}

/** Inspects one frame of a camera now (the inspector's `inspectNow`). */
export type InspectTrigger = (cameraId: string, partId?: string) => Promise<unknown>;

export interface PlcLinkStatus {
  readonly protocol: string;
  readonly state: 'connecting' | 'connected' | 'down' | 'stopped';
  /** Verdicts waiting to be written. */
  readonly queued: number;
  readonly written: number;
  /** Verdicts the PLC refused (not retried). */
  readonly refused: number;
  /** Verdicts dropped because the queue was full (the oldest go first). */
  readonly dropped: number;
  /** Triggers taken from the PLC and handed to the inspector. */
  readonly triggers: number;
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: number };
}
