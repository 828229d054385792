import { toLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Inspection, VerdictSink } from './ports.js';

/**
 * Runs `sinks` in order for one verdict (see VerdictSink). Rejects with the first required sink's error;
 * other sinks' errors are logged with the sink's name.
 */
export async function runSinks(sinks: readonly VerdictSink[], inspection: Inspection, log: Logger): Promise<void> {
  const [failure] = await runSinksForBatch(sinks, [inspection], log);
  if (failure) throw failure.error;
}

/**
 * Runs `sinks` in order for several verdicts at once (a camera's batch, see FrameScheduler): each sink is
 * given every verdict, in order, without waiting between them (so the outbox commits them together), and
 * the next sink starts once it is done with all of them. A verdict a required sink refused skips the sinks
 * after it. Answers, per verdict, undefined or the required sink's error; other errors are logged.
 */
export async function runSinksForBatch(sinks: readonly VerdictSink[], inspections: readonly Inspection[], log: Logger): Promise<Array<{ error: unknown } | undefined>> {
  const failures: Array<{ error: unknown } | undefined> = inspections.map(() => undefined);
  for (const sink of sinks) {
    const live = inspections.flatMap((inspection, k) => (failures[k] ? [] : [{ inspection, k }]));
    const outcomes = await Promise.allSettled(
      live.map(async ({ inspection }) => {
        await sink.accept(inspection);
      }),
    );
    outcomes.forEach((outcome, j) => {
      if (outcome.status === 'fulfilled') return;
      const { inspection, k } = live[j] as { inspection: Inspection; k: number };
      if (sink.required) failures[k] = { error: outcome.reason };
      else log.warn({ sink: sink.name, verdictId: inspection.verdict.id, err: toLookoutError(outcome.reason).toJSON() }, 'a verdict sink failed; the verdict goes on');
    });
  }
  return failures;
}

/**
 * Calls fast sinks (see VerdictSink) in order for one verdict without waiting for them; a sink that throws
 * or whose promise rejects is logged with its name.
 */
export function signalSinks(sinks: readonly VerdictSink[], inspection: Inspection, log: Logger): void {
  const failed = (sink: VerdictSink) => (err: unknown) =>
    log.warn({ sink: sink.name, verdictId: inspection.verdict.id, err: toLookoutError(err).toJSON() }, 'a verdict sink failed; the verdict goes on');
  for (const sink of sinks) {
    try {
      const pending = sink.accept(inspection);
      if (pending) pending.catch(failed(sink));
    } catch (err) {
      failed(sink)(err);
    }
  }
}
