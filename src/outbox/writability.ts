/**
 * Whether the outbox's disk takes writes, with hysteresis: one refused write (or free space below the
 * floor) makes it not writable at once; it is writable again only after `writes` successful writes in a
 * row, the first and the last at least `windowMs` apart, all made while the last free-space reading was
 * at or above the floor. A disk that another writer keeps full lets a small write through now and then;
 * that is not the disk being back. Pure: the outbox reports writes and free space, with their times.
 */

/** Why the disk is not taking writes. */
export type UnwritableCause = 'disk-full' | 'read-only' | 'unusable' | 'low-space';

export interface WritabilityConfig {
  readonly writes: number;
  readonly windowMs: number;
  /** 0: no floor. */
  readonly minFreeBytes: number;
}

/** What the outbox's stats, /readyz, the dashboard and the health topic say while not writable. */
export interface Unwritable {
  readonly cause: UnwritableCause;
  /** One line for an operator, e.g. `disk full (free 12 KiB < 64 MiB)`. */
  readonly reason: string;
  /** When it stopped being writable (ms since the epoch). */
  readonly since: number;
  /** The last free-space reading of the outbox's filesystem, when there is one. */
  readonly freeBytes?: number;
}

/** `down` when it just stopped being writable, `up` when it just became writable again. */
export type WritabilityChange = 'down' | 'up' | undefined;

const WORDS: Record<UnwritableCause, string> = {
  'disk-full': 'disk full',
  'low-space': 'disk nearly full',
  'read-only': 'read-only',
  unusable: 'database cannot be used',
};

export class Writability {
  private down: { cause: UnwritableCause; detail?: string; since: number } | undefined;
  private streak: { count: number; firstAt: number } | undefined;
  private freeBytes: number | undefined;

  constructor(private readonly config: WritabilityConfig) {}

  get writable(): boolean {
    return this.down === undefined;
  }

  /** The disk refused a write. `detail` (an error code) is shown for causes other than space. */
  failed(cause: UnwritableCause, at: number, detail?: string): WritabilityChange {
    this.streak = undefined;
    const wasDown = this.down !== undefined;
    this.down = { cause, since: this.down?.since ?? at, ...(detail ? { detail } : {}) };
    return wasDown ? undefined : 'down';
  }

  /** A write went through. */
  succeeded(at: number): WritabilityChange {
    if (!this.down || !this.spaceAboveFloor()) return undefined;
    this.streak = { count: (this.streak?.count ?? 0) + 1, firstAt: this.streak?.firstAt ?? at };
    if (this.streak.count < this.config.writes || at - this.streak.firstAt < this.config.windowMs) return undefined;
    this.down = undefined;
    this.streak = undefined;
    return 'up';
  }

  /** A reading of the free space on the outbox's filesystem. */
  freeSpace(bytes: number, at: number): WritabilityChange {
    this.freeBytes = bytes;
    if (this.spaceAboveFloor()) return undefined;
    this.streak = undefined;
    if (this.down) return undefined;
    this.down = { cause: 'low-space', since: at };
    return 'down';
  }

  /** Undefined while writable. */
  state(): Unwritable | undefined {
    if (!this.down) return undefined;
    const { cause, since } = this.down;
    return { cause, reason: this.reason(), since, ...(this.freeBytes !== undefined ? { freeBytes: this.freeBytes } : {}) };
  }

  private reason(): string {
    const { cause, detail } = this.down!;
    const words = WORDS[cause];
    if (!this.spaceAboveFloor()) return `${words} (free ${formatBytes(this.freeBytes!)} < ${formatBytes(this.config.minFreeBytes)})`;
    if (this.streak) return `${words}, recovering (${this.streak.count} of ${this.config.writes} writes over ${this.config.windowMs / 1000} s)`;
    return detail && cause !== 'disk-full' ? `${words} (${detail})` : words;
  }

  /** An unknown reading (no statfs yet, or none possible) does not hold recovery back. */
  private spaceAboveFloor(): boolean {
    return this.freeBytes === undefined || this.freeBytes >= this.config.minFreeBytes;
  }
}

/** `512 B`, `12 KiB`, `1.5 MiB`: whole numbers from 10 up. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = unit === 0 || value >= 10 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
  return `${text} ${units[unit]}`;
}
