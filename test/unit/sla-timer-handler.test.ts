import { describe, expect, it } from "vitest";
import type { QueueMessage } from "../../shared/outbox/ports.js";
import type { TimerMessage } from "../../shared/sla/domain/timers.js";
import { handleTimer, TIMER_RETRY, type TimerDeps } from "../../shared/sla/timer-handler.js";

/**
 * One message of the ticket-timers queue (timer-handler.ts): handled at its time, waited for
 * when it comes early, and retried with backoff while the store fails, never spent at once.
 */
const NOW = Date.parse("2026-12-07T10:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();
const body = (over: Partial<TimerMessage> = {}): TimerMessage => ({ version: 1, ticketId: "t1", scheduledFor: iso(NOW), ...over });

function deps(failing = false) {
  const handled: { ticketId: string; requestId: string; at: number }[] = [];
  const published: QueueMessage[] = [];
  const waits: number[] = [];
  let now = NOW;
  const d: TimerDeps = {
    tickets: {
      async slaTimer(ticketId, requestId) {
        if (failing) throw new Error("store down");
        handled.push({ ticketId, requestId, at: now });
        return true;
      },
    },
    publisher: { publish: async (messages) => void published.push(...messages), close: async () => {} },
    now: () => new Date(now),
    log: () => {},
    wait: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  };
  return { d, handled, published, waits };
}

describe("an SLA timer message", () => {
  it("moves the ticket's clocks at its time, the message id its request id", async () => {
    const { d, handled, published } = deps();
    await handleTimer(d, { messageId: "t1.outbox-1-timer-1", body: body() });
    expect(handled).toEqual([
      {
        ticketId: "t1",
        requestId: "t1.outbox-1-timer-1",
        at: NOW,
      },
    ]);
    expect(published).toEqual([]);
  });

  it("delivered a few seconds early, waits for its time; far too early, goes back on the queue for it, each time under an id of its own", async () => {
    const early = deps();
    await handleTimer(early.d, { messageId: "m", body: body({ scheduledFor: iso(NOW + 2000) }) });
    expect(early.waits).toEqual([2000]);
    expect(early.handled.map((h) => h.at)).toEqual([NOW + 2000]);

    const far = deps();
    await handleTimer(far.d, { messageId: "m", body: body({ scheduledFor: iso(NOW + 120_000) }) });
    // That copy early again (the queue's clock minutes ahead): back again, never handled before its time.
    await handleTimer(far.d, { messageId: "m.early-1", body: far.published[0]!.body });
    expect(far.handled).toEqual([]);
    expect(far.waits).toEqual([]);
    expect(far.published.map((m) => [m.messageId, m.scheduledAt?.toISOString(), (m.body as TimerMessage).retryOf])).toEqual([
      ["m.early-1", iso(NOW + 120_000), "m"],
      ["m.early-2", iso(NOW + 120_000), "m"],
    ]);
    // Clocks that never agree: after its copies, it dead-letters for a person to look at them.
    const last = body({ scheduledFor: iso(NOW + 120_000), retryOf: "m", early: 10 });
    await expect(handleTimer(far.d, { messageId: "m.early-10", body: last })).rejects.toThrow(/over 30 s early/);
  });

  it("while the store fails, is tried again later with backoff, and dead-letters (throws) after the last retry", async () => {
    const { d, published } = deps(true);
    await handleTimer(d, { messageId: "m", body: body() });
    await handleTimer(d, { messageId: "m.retry-1", body: published[0]!.body });
    expect(published.map((m) => [m.messageId, m.scheduledAt!.getTime() - NOW, (m.body as TimerMessage).attempt])).toEqual([
      ["m.retry-1", TIMER_RETRY.firstSeconds * 1000, 1],
      ["m.retry-2", TIMER_RETRY.firstSeconds * 2000, 2],
    ]);
    const last = body({ retryOf: "m", attempt: TIMER_RETRY.retries });
    await expect(handleTimer(d, { messageId: `m.retry-${TIMER_RETRY.retries}`, body: last })).rejects.toThrow("store down");
  });

  it("that is not a timer fails at once, to dead-letter", async () => {
    const { d } = deps();
    await expect(handleTimer(d, { messageId: "m", body: { version: 1, ticketId: "t1" } })).rejects.toThrow(/not an SLA timer v1/);
    await expect(handleTimer(d, { messageId: "m", body: "not json" })).rejects.toThrow(/not an SLA timer v1/);
  });
});
