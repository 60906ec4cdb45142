import type { Scheduler } from "../../shared/kernel/scheduler.js";

interface Task {
  due: number;
  order: number;
  run: () => void | Promise<unknown>;
}

/**
 * A Scheduler whose clock moves only when the test moves it, for the code that takes
 * one (the in-process queue, the outbox pump, the notifier's clock through the host).
 *
 * What comes due runs by itself, as on a real timer: work scheduled for now (a delay of
 * 0) starts at once, the rest when `advance` brings the clock to its time. Tasks run one
 * at a time, in the order of their times (then of scheduling), and a task that returns a
 * promise is finished when it settles; so once `settle` or `advance` returns, everything
 * that was due has finished, including what it scheduled in turn for a time already
 * reached. That is what lets a test say "nothing more happens before time T" without
 * waiting: anything that could make it happen would have run.
 */
export class ManualScheduler implements Scheduler {
  private time: number;
  private order = 0;
  private readonly tasks: Task[] = [];
  private draining: Promise<void> | undefined;
  /** What runs threw: a test can check there is none. */
  readonly errors: unknown[] = [];

  constructor(start = Date.now()) {
    this.time = start;
  }

  now(): Date {
    return new Date(this.time);
  }

  after(ms: number, run: () => void | Promise<unknown>): () => void {
    const task: Task = { due: this.time + Math.max(0, ms), order: this.order++, run };
    this.tasks.push(task);
    if (task.due <= this.time) this.drain();
    return () => {
      const i = this.tasks.indexOf(task);
      if (i >= 0) this.tasks.splice(i, 1);
    };
  }

  /** Tasks waiting for their time. */
  get pending(): number {
    return this.tasks.length;
  }

  /** Waits until everything due now has run and finished, including what it scheduled for now. */
  async settle(): Promise<void> {
    while (this.draining || this.nextDue(this.time)) {
      this.drain();
      await this.draining;
    }
  }

  /** Moves the clock `ms` on, running each task when its time comes, and waits until all have finished. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await this.settle();
      const next = this.nextDue(target);
      if (!next) break;
      this.time = Math.max(this.time, next.due);
    }
    this.time = target;
    await this.settle();
  }

  private nextDue(until: number): Task | undefined {
    let next: Task | undefined;
    for (const task of this.tasks) {
      if (task.due <= until && (!next || task.due < next.due || (task.due === next.due && task.order < next.order))) next = task;
    }
    return next;
  }

  private drain(): void {
    this.draining ??= (async () => {
      for (;;) {
        // As with a real timer, a task never runs inside the after() call that scheduled it.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const task = this.nextDue(this.time);
        if (!task) {
          this.draining = undefined; // before returning: an after() from here on starts a new drain
          return;
        }
        this.tasks.splice(this.tasks.indexOf(task), 1);
        try {
          await task.run();
        } catch (e) {
          this.errors.push(e);
        }
      }
    })();
  }
}
