import type { BatchProgress } from './batch-inspection.js';

/**
 * A progress line on stderr: redrawn in place (at most 10 times a second) on a terminal, a plain line
 * every 10% or 5 s otherwise (logs, CI).
 */
export function createProgressPrinter(stream: NodeJS.WritableStream & { isTTY?: boolean }, now: () => number = Date.now): { update(p: BatchProgress): void; end(): void } {
  const tty = stream.isTTY === true;
  let last = 0;
  let lastDecile = -1;
  let drawn = false;
  const text = (p: BatchProgress) => {
    const width = 24;
    const filled = p.total ? Math.round((p.done / p.total) * width) : width;
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} · ${p.anomalous} anomalous · ${p.errors} errors`;
  };
  return {
    update(p) {
      const t = now();
      if (tty) {
        if (t - last < 100 && p.done !== p.total) return;
        last = t;
        drawn = true;
        stream.write(`\r${text(p)}\x1b[K`);
        return;
      }
      const decile = p.total ? Math.floor((p.done / p.total) * 10) : 10;
      if (decile === lastDecile && t - last < 5_000) return;
      lastDecile = decile;
      last = t;
      stream.write(`${text(p)}\n`);
    },
    end() {
      if (tty && drawn) stream.write('\n');
    },
  };
}
