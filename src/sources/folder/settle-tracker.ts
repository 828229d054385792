/**
 * Decides when a dropped file is completely written: its size and mtime have stayed the same for
 * `settleMs` of our own observation (not judged by mtime alone: `cp -p` and rsync set an old mtime
 * only when they finish, so a copy in progress can look old). Scans are periodic, so a lost watch
 * event only delays a file; it is never missed.
 */
export class SettleTracker {
  private readonly seen = new Map<string, { size: number; mtimeMs: number; since: number }>();

  constructor(private readonly settleMs: number) {}

  /** Records one scan's observation; true when the file is ready to read. */
  observe(name: string, size: number, mtimeMs: number, now: number): boolean {
    const before = this.seen.get(name);
    if (!before || before.size !== size || before.mtimeMs !== mtimeMs) {
      this.seen.set(name, { size, mtimeMs, since: now });
      return false;
    }
    return now - before.since >= this.settleMs;
  }

  /** Drops names not present in the latest listing, so the map stays bounded by the folder. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.seen.keys()) if (!names.has(name)) this.seen.delete(name);
  }

  forget(name: string): void {
    this.seen.delete(name);
  }
}
