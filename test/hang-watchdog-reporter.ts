import { readdirSync, readFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Fails the run when it stops making progress. A test worker that hangs instead of dying (a native
 * crash handler deadlocked in a corrupted heap, a thread blocked in a system call) never runs its own
 * test timeout, and vitest would wait for it forever: CI must fail instead. Any test or hook starting
 * or ending is progress; after `LOOKOUT_TEST_HANG_MS` (default 5 min) without any, this names the test
 * files still running, kills the workers and exits 1.
 */
export default class HangWatchdogReporter implements Reporter {
  private readonly limitMs = Number(process.env.LOOKOUT_TEST_HANG_MS ?? 300_000);
  private readonly running = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  onTestRunStart(): void {
    this.progress();
  }

  onTestModuleStart(module: TestModule): void {
    this.running.add(module.moduleId);
    this.progress();
  }

  onTestModuleEnd(module: TestModule): void {
    this.running.delete(module.moduleId);
    this.progress();
  }

  onTestCaseReady(): void {
    this.progress();
  }

  onTestCaseResult(): void {
    this.progress();
  }

  onHookStart(): void {
    this.progress();
  }

  onHookEnd(): void {
    this.progress();
  }

  onTestRunEnd(): void {
    clearTimeout(this.timer);
  }

  private progress(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fail(), this.limitMs);
    this.timer.unref();
  }

  private fail(): void {
    const files = [...this.running].map((id) => id.replace(`${process.cwd()}/`, '')).join(', ') || 'none';
    process.stdout.write(`\nhang watchdog: no test started or finished for ${Math.round(this.limitMs / 1000)} s; a test worker hangs. Still running: ${files}\n`);
    for (const pid of descendants(process.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(1);
  }
}

/** Every process below `root`, from /proc (the workers, and whatever they started). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}
