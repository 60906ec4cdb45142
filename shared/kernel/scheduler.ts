/**
 * The clock and the timers, as a dependency: what waits (the in-process queue, the
 * outbox pump) takes one, so a test can run it on its own time instead of sleeping.
 */
export interface Scheduler {
  now(): Date;
  /** Runs `run` once, `ms` from now; the returned function cancels it. */
  after(ms: number, run: () => void): () => void;
}

export const systemScheduler: Scheduler = {
  now: () => new Date(),
  after(ms, run) {
    const timer = setTimeout(run, ms);
    return () => clearTimeout(timer);
  },
};
