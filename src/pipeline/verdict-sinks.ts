import { toLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Inspection, VerdictSink } from './ports.js';

/**
 * Runs `sinks` in order for one verdict (see VerdictSink). Rejects with the first required sink's error;
 * other sinks' errors are logged with the sink's name.
 */
export async function runSinks(sinks: readonly VerdictSink[], inspection: Inspection, log: Logger): Promise<void> {
  for (const sink of sinks) {
    try {
      await sink.accept(inspection);
    } catch (err) {
      if (sink.required) throw err;
      log.warn({ sink: sink.name, verdictId: inspection.verdict.id, err: toLookoutError(err).toJSON() }, 'a verdict sink failed; the verdict goes on');
    }
  }
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
