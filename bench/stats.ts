/** The p-th percentile of ascending `sorted` values, by nearest rank (p50 of 1..4 is 2); 0 when there are none. */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! : 0;
