import type { Subscription } from "./domain/webhook.js";
import type { WebhookStore } from "./ports.js";

/**
 * The subscriptions kept by this instance for a few seconds: every event would otherwise query
 * them, one more round trip per change (a broadcast to 1,000 reports, 1,000 queries of a list
 * that did not change). What this instance creates, changes or deletes is seen at once; another
 * instance's within SUBSCRIPTIONS_KEPT_MS. Each delivery still reads its subscription afresh, so
 * a deleted or paused one is never called once the delivery is made.
 */
export const SUBSCRIPTIONS_KEPT_MS = 5_000;

export function keptSubscriptions(store: WebhookStore, now: () => Date, keptMs = SUBSCRIPTIONS_KEPT_MS): WebhookStore {
  let kept: { at: number; list: Promise<Subscription[]> } | undefined;
  const forget = () => (kept = undefined);
  return {
    list() {
      const at = now().getTime();
      if (!kept || at - kept.at >= keptMs) {
        const list = store.list();
        // A read that failed is not kept: the next event reads again.
        list.catch(() => kept?.list === list && forget());
        kept = { at, list };
      }
      return kept.list;
    },
    get: (id) => store.get(id),
    create: (subscription) => store.create(subscription).finally(forget),
    update: (id, change) => store.update(id, change).finally(forget),
    delete: (id) => store.delete(id).finally(forget),
  };
}
