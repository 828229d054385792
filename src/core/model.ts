/** Model states of the Edge Agent protocol (enum values are the wire numbers). */
export enum ModelStatus {
  STOPPED = 0,
  STARTING = 1,
  RUNNING = 2,
  FAILED = 3,
  STOPPING = 4,
}

export interface ModelInfo {
  readonly component: string;
  readonly modelArn: string;
  readonly status: ModelStatus;
  readonly statusMessage: string;
}

export interface AnomalyClass {
  readonly name: string;
  /** Fraction of the image area in [0,1] (despite the protocol's field name). */
  readonly totalPercentageArea: number;
  /** `#RRGGBB`. */
  readonly hexColor: string;
}

/** What a model says about one image, as the Edge Agent protocol carries it. */
export interface DetectResult {
  readonly isAnomalous: boolean;
  readonly confidence: number;
  /** Absent for older agents: unknown, not zero. */
  readonly anomalyScore?: number;
  readonly anomalyThreshold?: number;
  readonly anomalies: readonly AnomalyClass[];
  /** RGB888 mask at the input size, classes in their colours, background black. Segmentation only. */
  readonly mask?: { readonly width: number; readonly height: number; readonly pixels: Uint8Array };
}
