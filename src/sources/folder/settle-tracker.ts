/**
 * Decides when a dropped file is completely written: its size and mtime have not changed between
 * two scans, and its mtime is at least `settleMs` old. Scans are periodic, so a lost watch event
 * only delays a file; it is never missed.
 */
export class SettleTracker {
  private readonly seen = new Map<string, { size: number; mtimeMs: number }>();

  constructor(private readonly settleMs: number) {}

  /** Records one scan's observation; true when the file is ready to read. */
  observe(name: string, size: number, mtimeMs: number, now: number): boolean {
    const before = this.seen.get(name);
    this.seen.set(name, { size, mtimeMs });
    if (!before || before.size !== size || before.mtimeMs !== mtimeMs) return false;
    return now - mtimeMs >= this.settleMs;
  }

  /** Drops names not present in the latest listing, so the map stays bounded by the folder. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.seen.keys()) if (!names.has(name)) this.seen.delete(name);
  }

  forget(name: string): void {
    this.seen.delete(name);
  }
}
