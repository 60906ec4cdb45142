import { describe, expect, it } from "vitest";
import type { Subscription } from "../../shared/notifications/domain/webhook.js";
import { subscription as fixture } from "../support/notification-fixtures.js";
import { keptSubscriptions } from "../../shared/notifications/kept-subscriptions.js";
import type { WebhookStore } from "../../shared/notifications/ports.js";

/** The subscriptions each event reads, kept 5 s by the instance (notifications/kept-subscriptions.ts). */
const subscription = (id: string): Subscription => fixture({ id });

function memoryStore(): WebhookStore & { lists: number; failNextList: boolean } {
  const all = new Map<string, Subscription>();
  const store = {
    lists: 0,
    failNextList: false,
    async list() {
      store.lists++;
      if (store.failNextList) {
        store.failNextList = false;
        throw new Error("store down");
      }
      return [...all.values()];
    },
    get: async (id: string) => all.get(id) ?? null,
    create: async (s: Subscription) => void all.set(s.id, s),
    async update(id: string, change: (s: Subscription) => Subscription | null) {
      const next = all.has(id) ? change(all.get(id)!) : null;
      if (next) all.set(id, next);
    },
    delete: async (id: string) => all.delete(id),
  };
  return store;
}

describe("the subscriptions kept by an instance", () => {
  it("are read once per 5 s, and afresh at once after this instance changes them", async () => {
    let now = 0;
    const store = memoryStore();
    const kept = keptSubscriptions(store, () => new Date(now));
    await kept.create(subscription("a"));
    expect((await kept.list()).map((s) => s.id)).toEqual(["a"]);
    await kept.list();
    now = 4_999;
    await kept.list();
    expect(store.lists).toBe(1);
    now = 5_000;
    await kept.list();
    expect(store.lists).toBe(2);
    await kept.update("a", (s) => ({ ...s, status: "paused" }));
    expect((await kept.list())[0]!.status).toBe("paused");
    await kept.delete("a");
    expect(await kept.list()).toEqual([]);
    expect(store.lists).toBe(4);
  });

  it("keep no failed read", async () => {
    const store = memoryStore();
    const kept = keptSubscriptions(store, () => new Date(0));
    store.failNextList = true;
    await expect(kept.list()).rejects.toThrow("store down");
    expect(await kept.list()).toEqual([]);
    expect(store.lists).toBe(2);
  });

  it("say at once whether an event is wanted: yes while unknown or stale (and read again), else as the list says", async () => {
    let now = 0;
    const store = memoryStore();
    const kept = keptSubscriptions(store, () => new Date(now));
    expect(kept.wanted("ticket.opened")).toBe(true);
    await kept.list();
    expect(kept.wanted("ticket.opened")).toBe(false);
    await kept.create(subscription("a"));
    expect(kept.wanted("ticket.opened")).toBe(true);
    await kept.list();
    expect(kept.wanted("ticket.opened")).toBe(true);
    expect(kept.wanted("ticket.public_reply")).toBe(false);
    await kept.update("a", (s) => ({ ...s, status: "paused" }));
    await kept.list();
    expect(kept.wanted("ticket.opened")).toBe(false);
    now = 5_000;
    expect(kept.wanted("ticket.opened")).toBe(true);
    expect(store.lists).toBe(4);
  });
});
