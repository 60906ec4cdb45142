import { parseQueueBody, type Publisher } from "../outbox/ports.js";
import { TimerMessage } from "./domain/timers.js";
import { retryIdOf } from "../kernel/retry-id.js";

/**
 * Handles one message of the `ticket-timers` queue: the ticket's clocks are moved by its timer
 * (whatever warning or breach is due by now recorded, and the next timer set; or nothing, if the
 * clocks moved on).
 *
 * - A timer delivered before its time (the queue's clock ahead of this one) waits for it, so
 *   that nothing is breached before it is due by this host's clock; more than 30 s early, it
 *   goes back on the queue for its instant.
 * - When the store fails, a copy of the timer is scheduled with backoff: Service Bus would
 *   redeliver the message at once and spend its deliveries in seconds while the store is away.
 *   The last retry throws, and the message dead-letters for a person to see (infra/ alerts).
 * - A body that is not a timer throws at once: it dead-letters.
 */
export interface TimerTickets {
  slaTimer(ticketId: string, requestId: string): Promise<boolean>;
}

export interface TimerDeps {
  tickets: TimerTickets;
  /** The `ticket-timers` queue itself: where a retry goes. */
  publisher: Publisher;
  now: () => Date;
  log: (line: string) => void;
  /** Waits `ms` (a timer that came early); the system's timers unless a test brings its own. */
  wait?: (ms: number) => Promise<void>;
}

/** First retry after this; doubling each time, 10 retries: about 34 minutes in all. */
export const TIMER_RETRY = { firstSeconds: 2, retries: 10 };
/** An early timer waits at most this long (well inside the message's 60 s lock); earlier, it goes back on the queue. */
const LONGEST_WAIT_MS = 30_000;
/** Copies of a timer that keeps coming too early, before it dead-letters for a person to look at the clocks. */
const MOST_EARLY_COPIES = 10;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function handleTimer(deps: TimerDeps, message: { messageId: string; body: unknown }): Promise<void> {
  const parsed = TimerMessage.safeParse(parseQueueBody(message.body));
  // A body we cannot read will not become readable: fail so it dead-letters for a person to look at.
  if (!parsed.success) throw new Error(`Message ${message.messageId} is not an SLA timer v1: ${parsed.error.message}`);
  const { ticketId, scheduledFor, attempt = 0, retryOf, early: earlyCopies = 0 } = parsed.data;
  const first = retryOf ?? message.messageId;
  const early = Date.parse(scheduledFor) - deps.now().getTime();
  if (early > LONGEST_WAIT_MS) {
    // Never handled before its time (nothing would be due, and no next timer set): back on the
    // queue for its instant, under an id of its own each time, until the clocks agree.
    if (earlyCopies >= MOST_EARLY_COPIES)
      throw new Error(`sla timer ${first} keeps coming over 30 s early: the queue's clock and this host's disagree`);
    const copy = { ...parsed.data, retryOf: first, early: earlyCopies + 1 };
    return later(deps, copy, `${first}.early-${earlyCopies + 1}`, new Date(scheduledFor), `came ${Math.round(early / 1000)} s early`);
  }
  if (early > 0) await (deps.wait ?? sleep)(early);
  try {
    if (!(await deps.tickets.slaTimer(ticketId, first))) deps.log(`sla timer ${first}: ticket ${ticketId} is gone`);
  } catch (e) {
    if (attempt >= TIMER_RETRY.retries) throw e;
    const at = new Date(deps.now().getTime() + TIMER_RETRY.firstSeconds * 1000 * 2 ** attempt);
    const copy = { ...parsed.data, attempt: attempt + 1, retryOf: first };
    await later(deps, copy, retryIdOf(first, attempt + 1), at, `failed (${(e as Error).message})`);
  }
}

/** A copy of the timer, scheduled for `at`: its id says whose copy it is, so the queue drops a second one. */
async function later(deps: TimerDeps, copy: TimerMessage, messageId: string, at: Date, why: string): Promise<void> {
  const first = copy.retryOf!;
  await deps.publisher.publish([{ messageId, subject: "sla.timer", body: copy, correlationId: first, scheduledAt: at }]);
  deps.log(`sla timer ${first} ${why}; again at ${at.toISOString()}`);
}
