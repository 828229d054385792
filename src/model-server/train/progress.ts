/** Training progress, reported to a callback the CLI renders (stages in order, `done` of `total`). */
export interface TrainProgress {
  readonly stage: 'check' | 'load' | 'fit' | 'features' | 'coreset' | 'calibrate' | 'write';
  readonly done: number;
  readonly total: number;
  readonly message?: string;
}

export type ProgressListener = (p: TrainProgress) => void;
