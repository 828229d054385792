import { type FSWatcher, watch } from 'node:fs';
import type { Logger } from '../../core/log.js';
import { lookupRegistry, type RegistryLookup } from './registry-file.js';

export interface RegistryWatcherDeps {
  readonly dir: string;
  readonly log: Logger;
  /** Called whenever what a tracked component's registry file says changes (appears, new version, breaks). */
  readonly onChange: (component: string, lookup: RegistryLookup) => void;
  /** The periodic rescan that backs up fs.watch (events can be missed; the directory may not exist yet). Default 2 s. */
  readonly rescanMs?: number;
}

function sameLookup(a: RegistryLookup | undefined, b: RegistryLookup): boolean {
  if (!a || a.kind !== b.kind) return false;
  if (a.kind === 'found' && b.kind === 'found') return a.record.version === b.record.version && a.record.path === b.record.path;
  if (a.kind === 'invalid' && b.kind === 'invalid') return a.error.message === b.error.message;
  return true;
}

/**
 * Follows `<dir>/<component>.json` for the components it is told to track: fs.watch on the directory for
 * prompt reaction, plus a cheap periodic rescan (a deployment may deliver the configuration before the
 * model component's Install has created the directory or the file). Scans never overlap; onChange hears
 * only differences.
 */
export class RegistryWatcher {
  private readonly last = new Map<string, RegistryLookup>();
  private tracked = new Set<string>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private running = false;

  constructor(private readonly deps: RegistryWatcherDeps) {}

  get dir(): string {
    return this.deps.dir;
  }

  start(): void {
    this.running = true;
    this.timer = setInterval(() => void this.scan(), this.deps.rescanMs ?? 2_000);
    this.timer.unref();
    void this.scan();
  }

  stop(): void {
    this.running = false;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** The components to follow from now on; the others are forgotten. Scans at once. */
  track(components: Iterable<string>): Promise<void> {
    this.tracked = new Set(components);
    for (const component of [...this.last.keys()]) if (!this.tracked.has(component)) this.last.delete(component);
    return this.scan();
  }

  /** The last lookup of a tracked component (undefined before its first scan). */
  lookup(component: string): RegistryLookup | undefined {
    return this.last.get(component);
  }

  /** Reads every tracked file; asked while a scan runs, resolves after one more scan that starts after it. */
  scan(): Promise<void> {
    if (!this.scanning) {
      this.scanning = this.scanOnce().finally(() => {
        this.scanning = undefined;
      });
      return this.scanning;
    }
    this.queued ??= this.scanning.then(() => {
      this.queued = undefined;
      return this.scan();
    });
    return this.queued;
  }

  private async scanOnce(): Promise<void> {
    if (this.running) this.ensureWatching();
    for (const component of [...this.tracked]) {
      const lookup = await lookupRegistry(this.deps.dir, component);
      if (!this.tracked.has(component) || sameLookup(this.last.get(component), lookup)) continue;
      this.last.set(component, lookup);
      try {
        this.deps.onChange(component, lookup);
      } catch (err) {
        this.deps.log.error({ component, err }, 'model registry listener failed');
      }
    }
  }

  /** fs.watch on the directory once it exists; re-made after an error (directory removed and recreated). */
  private ensureWatching(): void {
    if (this.watcher || this.tracked.size === 0) return;
    try {
      const watcher = watch(this.deps.dir, { persistent: false }, () => this.soon());
      watcher.on('error', () => {
        watcher.close();
        if (this.watcher === watcher) this.watcher = undefined;
      });
      this.watcher = watcher;
    } catch {
      // Not there yet: the periodic rescan tries again.
    }
  }

  private soon(): void {
    if (!this.running || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.scan();
    }, 25);
  }
}
