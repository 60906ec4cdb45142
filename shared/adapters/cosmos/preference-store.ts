import type { Container, JSONObject } from "@azure/cosmos";
import { createHash } from "node:crypto";
import { NotificationPreferences } from "../../notifications/domain/preferences.js";
import type { PreferenceStore } from "../../notifications/ports.js";
import { parsed } from "./documents.js";
import { pointRead, translated } from "./errors.js";

/**
 * Each person's notification preferences, a document in a partition of their own
 * (`user-<hash of their id>`: no two people share one, and no ticket id looks like it).
 */
export class CosmosPreferenceStore implements PreferenceStore {
  constructor(private readonly container: Container) {}

  async get(userId: string): Promise<NotificationPreferences | null> {
    const doc = await pointRead(() => this.container.item(DOC_ID, partitionOf(userId)).read<JSONObject>());
    return doc ? parsed(NotificationPreferences.strip(), doc, "notification preferences") : null;
  }

  async put(userId: string, preferences: NotificationPreferences): Promise<void> {
    const doc = { id: DOC_ID, ticketId: partitionOf(userId), type: "notification_preferences", ...preferences };
    await translated(() => this.container.items.upsert(doc));
  }
}

const DOC_ID = "notification-preferences";
const partitionOf = (userId: string): string => `user-${createHash("sha256").update(userId).digest("hex").slice(0, 32)}`;
