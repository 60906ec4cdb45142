import type { AppEventType } from "./domain/messages.js";
import { wants, type Subscription } from "./domain/webhook.js";
import type { WebhookStore } from "./ports.js";

/**
 * The subscriptions kept by this instance for a few seconds: every event would otherwise query
 * them, one more round trip per change (a broadcast to 1,000 reports, 1,000 queries of a list
 * that did not change). What this instance creates, changes or deletes is seen at once; another
 * instance's within SUBSCRIPTIONS_KEPT_MS. Each delivery still reads its subscription afresh, so
 * a deleted or paused one is never called once the delivery is made.
 */
const SUBSCRIPTIONS_KEPT_MS = 5_000;

export interface KeptSubscriptions extends WebhookStore {
  /**
   * Whether some active subscription wants events of this type, as this instance knows now,
   * without waiting: true while it does not know (its first read, or a list older than
   * SUBSCRIPTIONS_KEPT_MS, which it reads again meanwhile), so that no event is left out that
   * the fan-out, reading the same list, would have sent. A change writes no event for the apps
   * that nobody would get: nothing for the outbox, the queue and the fan-out to carry.
   */
  wanted(type: AppEventType): boolean;
}

export function keptSubscriptions(store: WebhookStore, now: () => Date, keptMs = SUBSCRIPTIONS_KEPT_MS): KeptSubscriptions {
  let kept: { at: number; list: Promise<Subscription[]>; known?: Subscription[] } | undefined;
  const forget = () => (kept = undefined);
  const fresh = () => kept !== undefined && now().getTime() - kept.at < keptMs;
  const list = (): Promise<Subscription[]> => {
    if (!fresh()) {
      const entry: NonNullable<typeof kept> = { at: now().getTime(), list: store.list() };
      entry.list.then(
        (subscriptions) => (entry.known = subscriptions),
        // A read that failed is not kept: the next event reads again.
        () => kept === entry && forget(),
      );
      kept = entry;
    }
    return kept!.list;
  };
  return {
    list,
    wanted(type) {
      const known = fresh() ? kept!.known : undefined;
      if (known) return known.some((s) => wants(s, { type }));
      list().catch(() => {});
      return true;
    },
    get: (id) => store.get(id),
    create: (subscription) => store.create(subscription).finally(forget),
    update: (id, change) => store.update(id, change).finally(forget),
    delete: (id) => store.delete(id).finally(forget),
  };
}
