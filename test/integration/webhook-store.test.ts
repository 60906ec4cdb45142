import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CosmosWebhookStore } from "../../shared/adapters/cosmos/webhook-store.js";
import { startEmbeddedCosmos, type EmbeddedCosmos } from "../../shared/local/embedded-cosmos.js";
import { failedOnce, PAUSE_AFTER } from "../../shared/notifications/domain/webhook.js";
import { subscription as fixture } from "../support/notification-fixtures.js";
import { withContainer } from "../support/embedded-container.js";

/**
 * The subscriptions' store on the embedded Cosmos DB endpoint, through the real SDK: events
 * failing at once each count (a compare-and-swap on the document's etag, retried), and the
 * partition holds nothing but subscriptions.
 */
let embedded: EmbeddedCosmos;
beforeAll(async () => {
  embedded = await startEmbeddedCosmos();
});
afterAll(() => embedded.close());

const subscription = fixture();

describe("the webhook store", () => {
  it("counts 20 failures made at once, each one, and pauses the subscription at 5", async () => {
    await withContainer(embedded, "webhooks", async (container) => {
      const store = new CosmosWebhookStore(container);
      await store.create(subscription);
      await Promise.all(
        Array.from({ length: 20 }, () => store.update(subscription.id, (s) => failedOnce(s, "HTTP 500", "2026-12-01T10:05:00.000Z"))),
      );
      const stored = await store.get(subscription.id);
      expect(stored).toMatchObject({ failures: 20, status: "paused", pausedAt: "2026-12-01T10:05:00.000Z", lastError: "HTTP 500" });
      expect(PAUSE_AFTER).toBe(5);
      expect((await store.list()).map((s) => s.id)).toEqual([subscription.id]);
      expect(await store.delete(subscription.id)).toBe(true);
      expect(await store.delete(subscription.id)).toBe(false);
      await store.update(subscription.id, () => {
        throw new Error("never called for a subscription that is gone");
      });
    });
  });
});
