import { describe, expect, it } from "vitest";
import { DUPLICATE_WINDOW_MS, LocalQueue } from "../../shared/local/local-queue.js";
import type { QueueMessage } from "../../shared/outbox/ports.js";
import { ManualScheduler } from "../support/manual-scheduler.js";

/** The in-process queue's contract (shared/local/local-queue.ts): duplicate detection within its window, and turns. */
const message = (messageId: string): QueueMessage => ({ messageId, subject: "test", body: { version: 1 } });

describe("the local queue", () => {
  it("drops a message id seen within the window, and takes it again once the window has passed", async () => {
    const scheduler = new ManualScheduler();
    const handled: string[] = [];
    const queue = new LocalQueue(async (m) => void handled.push(m.messageId), {
      maxDeliveryCount: 1,
      retryDelayMs: 10,
      log: () => {},
      scheduler,
    });
    await queue.publish([message("a"), message("a")]);
    await scheduler.settle();
    await scheduler.advance(DUPLICATE_WINDOW_MS - 1000);
    await queue.publish([message("a")]);
    await scheduler.settle();
    expect(handled).toEqual(["a"]);
    await scheduler.advance(2000);
    await queue.publish([message("a")]);
    await scheduler.settle();
    expect(handled).toEqual(["a", "a"]);
    await queue.close();
  });

  it("handles at most maxConcurrentCalls messages at once, and every one in the end", async () => {
    let active = 0;
    let most = 0;
    const handled: string[] = [];
    const queue = new LocalQueue(
      async (m) => {
        active++;
        most = Math.max(most, active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
        handled.push(m.messageId);
      },
      { maxDeliveryCount: 1, retryDelayMs: 10, log: () => {}, maxConcurrentCalls: 3 },
    );
    await queue.publish(Array.from({ length: 20 }, (_, i) => message(`m${i}`)));
    for (let i = 0; i < 200 && handled.length < 20; i++) await new Promise((r) => setTimeout(r, 5));
    expect(handled).toHaveLength(20);
    expect(most).toBe(3);
    await queue.close();
  });
});
