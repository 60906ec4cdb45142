import { randomBytes } from "node:crypto";
import { Failure } from "../kernel/failure.js";
import type { Principal } from "../kernel/principal.js";
import { MAX_SUBSCRIPTIONS, viewOf, type SubscriptionView, type WebhookInput } from "./domain/webhook.js";
import type { WebhookStore } from "./ports.js";

/** POST, GET and DELETE /api/webhooks: admins register the apps' subscriptions to the ticket events. */
export interface WebhookUseCases {
  create(caller: Principal, input: WebhookInput): Promise<SubscriptionView>;
  list(caller: Principal): Promise<SubscriptionView[]>;
  /** The subscription as it was. */
  delete(caller: Principal, id: string): Promise<SubscriptionView>;
}

export interface WebhookDeps {
  store: WebhookStore;
  now: () => Date;
  /** Off Azure a receiver may listen on plain http (a local app backend, a test); in Azure only https. */
  allowHttp: boolean;
}

export function webhookUseCases(deps: WebhookDeps): WebhookUseCases {
  const { store } = deps;
  const adminOnly = (caller: Principal) => {
    if (caller.role !== "admin") throw new Failure("forbidden", "Only admins manage the webhook subscriptions.");
  };
  return {
    async create(caller, input) {
      adminOnly(caller);
      if (!deps.allowHttp && new URL(input.url).protocol !== "https:")
        throw new Failure("invalid", "The url must be https.", {
          errors: [{ path: "url", message: "https only: the events' signature proves who sent them, https keeps them private" }],
        });
      if ((await store.list()).length >= MAX_SUBSCRIPTIONS)
        throw new Failure("conflict", `At most ${MAX_SUBSCRIPTIONS} subscriptions: delete one first.`);
      const subscription = {
        id: `wh_${randomBytes(12).toString("hex")}`,
        url: input.url,
        events: input.events,
        secret: input.secret,
        createdAt: deps.now().toISOString(),
        createdBy: caller.id,
        status: "active" as const,
        failures: 0,
        pausedAt: null,
        lastError: null,
      };
      await store.create(subscription);
      return viewOf(subscription);
    },
    async list(caller) {
      adminOnly(caller);
      return (await store.list()).map(viewOf).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    },
    async delete(caller, id) {
      adminOnly(caller);
      const subscription = await store.get(id);
      if (!subscription || !(await store.delete(id))) throw new Failure("not_found", "No such webhook subscription.");
      return viewOf(subscription);
    },
  };
}
