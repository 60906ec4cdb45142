/**
 * The clock and the timers, as a dependency: what waits (the in-process queue, the
 * outbox pump) takes one, so a test can run it on its own time instead of sleeping.
 */
export interface Scheduler {
  now(): Date;
  /**
   * Runs `run` once, `ms` from now; the returned function cancels it. A run that starts
   * asynchronous work returns its promise: a test's scheduler waits for it before it moves
   * its clock on, so it knows when everything that came due has finished.
   */
  after(ms: number, run: () => void | Promise<unknown>): () => void;
}

export const systemScheduler: Scheduler = {
  now: () => new Date(),
  after(ms, run) {
    const timer = setTimeout(() => void run(), ms);
    // Background work (a retry, a scheduled page) never keeps a process alive on its own:
    // a host stops by closing what waits, or by exiting.
    timer.unref();
    return () => clearTimeout(timer);
  },
};
