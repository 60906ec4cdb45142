import type { NotificationPreferences } from "./domain/preferences.js";

/** Where each person's preferences are kept (the Cosmos DB adapter: a partition of their own). */
export interface PreferenceStore {
  /** Theirs, or null when they never set any. */
  get(userId: string): Promise<NotificationPreferences | null>;
  put(userId: string, preferences: NotificationPreferences): Promise<void>;
}
