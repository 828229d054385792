/** One benchmark measurement, compared with a baseline measured in the same run. */
export type BenchResult = { name: string; value: number; unit: string; baseline?: { name: string; value: number }; ratio?: number; target?: string };
