import { type ModelInfo, ModelStatus } from '../../core/model.js';
import type { AdmissionStats } from '../admission.js';
import type { ExecutorStats } from '../bounded-executor.js';
import type { WaitingModel } from '../model-sources.js';

/** What the model server looks like at one instant: what /readyz and /metrics read. */
export interface ModelServerSnapshot {
  /** The gRPC server accepts calls. */
  readonly listening: boolean;
  /** Served models with their Edge Agent state and whether they start on boot. */
  readonly models: ReadonlyArray<ModelInfo & { readonly startOnBoot: boolean }>;
  /** Configured models still waiting for their registry file (not served, not listed over gRPC). */
  readonly waiting: readonly WaitingModel[];
  readonly queue: ExecutorStats & AdmissionStats & { readonly skipped: number };
}

export interface ModelServerReadiness {
  readonly ready: boolean;
  /** Why not ready, one line per problem. */
  readonly reasons: readonly string[];
}

/** Ready when the gRPC server listens and every startOnBoot model is RUNNING (a waiting one is not). Pure. */
export function assessReadiness(snapshot: ModelServerSnapshot): ModelServerReadiness {
  const reasons: string[] = [];
  if (!snapshot.listening) reasons.push('the gRPC server is not listening');
  for (const m of snapshot.models) {
    if (!m.startOnBoot || m.status === ModelStatus.RUNNING) continue;
    reasons.push(`model ${m.component} is ${ModelStatus[m.status]}${m.statusMessage ? ` (${m.statusMessage})` : ''}`);
  }
  for (const w of snapshot.waiting) if (w.startOnBoot) reasons.push(`model ${w.component} is not located yet: ${w.reason}`);
  return { ready: reasons.length === 0, reasons };
}
