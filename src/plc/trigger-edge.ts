/**
 * Which values of a trigger node start an inspection. `rising-edge`: a Boolean going from false to true;
 * `counter`: a number different from the one before. A value only counts against one seen on the same
 * connection: after `forget()` (the connection was lost) the next value is a baseline, so a light barrier
 * that fired while we were away does not inspect a part that has long left the camera.
 */
export class TriggerEdge {
  private last: unknown;
  private known = false;

  constructor(private readonly kind: 'rising-edge' | 'counter') {}

  /** True when `value` is a trigger. */
  accept(value: unknown): boolean {
    const before = this.last;
    const known = this.known;
    this.last = value;
    this.known = true;
    if (!known) return false;
    if (this.kind === 'rising-edge') return value === true && before === false;
    return (typeof value === 'number' || typeof value === 'bigint') && value !== before;
  }

  forget(): void {
    this.known = false;
    this.last = undefined;
  }
}
