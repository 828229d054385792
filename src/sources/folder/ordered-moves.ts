import type { Frame } from '../../core/frame.js';

type Move = (dir: string, name: string, frame: Frame, ok: boolean) => Promise<void>;

/**
 * The folder's files between hand-off and move, oldest first. Each file is moved once the pipeline
 * settled its frame and every file read before it has been moved, so processed/ fills in reading order
 * whatever order the verdicts settle in; at most `window` files are pending at once (add() waits).
 */
export class OrderedMoves {
  private readonly pending: Array<Promise<void>> = [];
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly window: number,
    private readonly move: Move,
    private readonly handOff: (frame: Frame) => Promise<boolean>,
  ) {}

  /**
   * Hands the frame over; resolves once fewer than `window` files are pending. Rejects when a move failed
   * for good (SOURCE_STALLED): the moves after it are not made, and the session starts again.
   */
  async add(dir: string, name: string, frame: Frame): Promise<void> {
    const outcome = this.handOff(frame);
    const moved = this.tail.then(async () => this.move(dir, name, frame, await outcome));
    moved.catch(() => undefined); // its failure is seen by add() or drain()
    this.tail = moved;
    this.pending.push(moved);
    while (this.pending.length >= this.window) await this.pending.shift();
  }

  /** Waits for every pending file's move (or failure). */
  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift()?.catch(() => undefined);
  }
}
