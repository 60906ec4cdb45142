import type { Container, JSONObject } from "@azure/cosmos";
import { Subscription } from "../../notifications/domain/webhook.js";
import type { WebhookStore } from "../../notifications/ports.js";
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

  async put(subscription: Subscription): Promise<void> {
    await translated(() => this.container.items.upsert({ ...subscription, ticketId: PARTITION, type: "webhook" }));
  }

  async delete(id: string): Promise<boolean> {
    return deleted(() => this.container.item(id, PARTITION).delete());
  }
}

const PARTITION = "_webhooks";
