import type { Principal } from "../kernel/principal.js";
import { DEFAULT_PREFERENCES, type NotificationPreferences } from "./domain/preferences.js";
import type { PreferenceStore } from "./ports.js";

/** GET and PUT /api/me/notifications: the caller's own preferences, and only theirs. */
export interface PreferenceUseCases {
  get(caller: Principal): Promise<NotificationPreferences>;
  put(caller: Principal, preferences: NotificationPreferences): Promise<NotificationPreferences>;
}

export function preferenceUseCases(store: PreferenceStore): PreferenceUseCases {
  return {
    get: async (caller) => (await store.get(caller.id)) ?? DEFAULT_PREFERENCES,
    async put(caller, preferences) {
      await store.put(caller.id, preferences);
      return preferences;
    },
  };
}
