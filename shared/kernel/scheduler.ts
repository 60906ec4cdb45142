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

/** The longest wait setTimeout keeps (2^31 - 1 ms, about 24.8 days); a longer one would fire at once. */
const LONGEST_TIMEOUT_MS = 2 ** 31 - 1;

export const systemScheduler: Scheduler = {
  now: () => new Date(),
  after(ms, run) {
    let timer: NodeJS.Timeout;
    // A wait longer than setTimeout keeps (an SLA timer weeks out) is waited in legs.
    const wait = (left: number) => {
      const leg = Math.min(left, LONGEST_TIMEOUT_MS);
      timer = setTimeout(() => (left > leg ? wait(left - leg) : void run()), leg);
      // Background work (a retry, a scheduled page) never keeps a process alive on its own:
      // a host stops by closing what waits, or by exiting.
      timer.unref();
    };
    wait(ms);
    return () => clearTimeout(timer);
  },
};
