import type { Container, JSONObject } from "@azure/cosmos";
import { Subscription } from "../../notifications/domain/webhook.js";
import type { WebhookStore } from "../../notifications/ports.js";
import { isFailure } from "../../kernel/failure.js";
import { parsed } from "./documents.js";
import { deleted, pointRead, translated } from "./errors.js";

/**
 * The apps' webhook subscriptions, in a partition of their own (`_webhooks`: no ticket id looks
 * like it). They are few (MAX_SUBSCRIPTIONS), so every event lists them all: one query in one partition.
 */
export class CosmosWebhookStore implements WebhookStore {
  constructor(private readonly container: Container) {}

  async list(): Promise<Subscription[]> {
    const { resources } = await translated(() =>
      this.container.items.query<JSONObject>({ query: "SELECT * FROM c WHERE c.type = 'webhook'" }, { partitionKey: PARTITION }).fetchAll(),
    );
    return resources.map((doc) => parsed(Subscription.strip(), doc, "webhook subscription"));
  }

  async get(id: string): Promise<Subscription | null> {
    const doc = await pointRead(() => this.container.item(id, PARTITION).read<JSONObject>());
    return doc ? parsed(Subscription.strip(), doc, "webhook subscription") : null;
  }

  async create(subscription: Subscription): Promise<void> {
    await translated(() => this.container.items.create(docOf(subscription)));
  }

  async update(id: string, change: (subscription: Subscription) => Subscription | null): Promise<void> {
    // Compare-and-swap on the document's etag: events fail at once, and each failure must count.
    for (let attempt = 1; ; attempt++) {
      const doc = await pointRead(() => this.container.item(id, PARTITION).read<JSONObject>());
      if (!doc) return;
      const next = change(parsed(Subscription.strip(), doc, "webhook subscription"));
      if (!next) return;
      try {
        await translated(() =>
          this.container.item(id, PARTITION).replace(docOf(next), { accessCondition: { type: "IfMatch", condition: doc._etag as string } }),
        );
        return;
      } catch (e) {
        if (!isFailure(e, "stale") || attempt >= MAX_ATTEMPTS) throw e;
      }
    }
  }

  async delete(id: string): Promise<boolean> {
    return deleted(() => this.container.item(id, PARTITION).delete());
  }
}

const PARTITION = "_webhooks";
/** Writers of one subscription at once are its events failing together: a few dozen at most. */
const MAX_ATTEMPTS = 50;
const docOf = (subscription: Subscription) => ({ ...subscription, ticketId: PARTITION, type: "webhook" });
