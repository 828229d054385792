import type { InspectorStatus } from '../core/inspector-status.js';

export interface HealthAssessment {
  /** What /readyz answers: model RUNNING, sources up, outbox writable. */
  readonly ready: boolean;
  /** Why not ready, one line per problem, in words an operator understands. Drives the red banner. */
  readonly reasons: readonly string[];
  /** The same problems for programs: which part, why, since when (ISO 8601, where known). */
  readonly problems: readonly HealthProblem[];
  /** Worth a look but not fatal (degraded or paused cameras, a backlog). Drives the amber banner. */
  readonly warnings: readonly string[];
}

export interface HealthProblem {
  /** `model`, `camera:<id>`, `cameras`, `outbox`. */
  readonly part: string;
  readonly reason: string;
  readonly since?: string;
}

const OUTBOX_BACKLOG_WARN_MS = 5 * 60_000;

/** Reads a snapshot into readiness reasons and warnings. Pure. */
export function assessHealth(status: InspectorStatus): HealthAssessment {
  const reasons: string[] = [];
  const problems: HealthProblem[] = [];
  const warnings: string[] = [];
  const problem = (text: string, part: string, reason: string, since?: number) => {
    reasons.push(text);
    problems.push({ part, reason, ...(since !== undefined ? { since: new Date(since).toISOString() } : {}) });
  };

  if (!status.ready.model || status.model.status !== 'RUNNING') {
    const msg = status.model.statusMessage ? ` (${status.model.statusMessage})` : '';
    const reason = `${status.model.component || '(none)'} is ${status.model.status}${msg}`;
    problem(`model ${reason}`, 'model', reason);
  }

  const badCameras = status.cameras.filter((c) => !c.paused && c.source.grade === 'bad');
  for (const cam of badCameras) {
    const err = cam.source.lastError ? `: ${cam.source.lastError.message}` : '';
    problem(`camera ${cam.id} is ${cam.source.state}${err}`, `camera:${cam.id}`, `${cam.source.state}${err}`);
  }
  if (!status.ready.sources && badCameras.length === 0) problem('camera sources are not up', 'cameras', 'camera sources are not up');

  const unwritable = status.outbox.unwritable;
  if (unwritable) {
    problem(`outbox: ${unwritable.reason}, since ${new Date(unwritable.since).toISOString()}`, 'outbox', unwritable.reason, unwritable.since);
  } else if (!status.ready.outbox || !status.outbox.writable) {
    const err = status.lastErrors.outbox ? `: ${status.lastErrors.outbox.message}` : '';
    problem(`outbox is not writable${err}`, 'outbox', `not writable${err}`);
  }

  for (const cam of status.cameras) {
    if (cam.paused) warnings.push(`camera ${cam.id} is paused`);
    else if (cam.source.grade === 'degraded') warnings.push(`camera ${cam.id} is degraded (${cam.source.reconnectsLastHour} reconnects in the last hour)`);
  }
  if (status.outbox.oldestAgeMs !== null && status.outbox.oldestAgeMs > OUTBOX_BACKLOG_WARN_MS) {
    warnings.push(`${status.outbox.depth} messages waiting to be delivered, oldest ${Math.round(status.outbox.oldestAgeMs / 60_000)} min`);
  }

  for (const [protocol, plc] of Object.entries(status.plc ?? {})) {
    if (plc.state === 'down') warnings.push(`PLC (${protocol}) is not answering: ${plc.queued} verdict writes waiting`);
  }

  const ready = status.ready.model && status.ready.sources && status.ready.outbox && reasons.length === 0;
  return { ready, reasons, problems, warnings };
}
