import { randomBytes } from "node:crypto";
import { BlockList, isIP } from "node:net";
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

/** The app's own network, by IP: loopback, private, carrier-grade NAT, link-local (the instance metadata endpoint is 169.254.169.254), unspecified. */
const OWN_NETWORK = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
] as const)
  OWN_NETWORK.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
] as const)
  OWN_NETWORK.addSubnet(net, prefix, "ipv6");

/**
 * In Azure: https only (the signature proves who sent an event, https keeps it private), and no
 * address of the app's own network by IP or as localhost, so that a subscription cannot make the
 * app call inside its network. (A name that resolves to such an address is not caught: admins
 * alone register subscriptions.)
 */
function refuseUnsafeUrl(url: URL): void {
  const refuse = (message: string) => {
    throw new Failure("invalid", "The url cannot receive events.", { errors: [{ path: "url", message }] });
  };
  if (url.protocol !== "https:") refuse("https only: the events' signature proves who sent them, https keeps them private");
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const family = isIP(host);
  const inside =
    host === "localhost" ||
    host.endsWith(".localhost") ||
    // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is refused whatever it maps to: no receiver needs one.
    host.startsWith("::ffff:") ||
    (family !== 0 && OWN_NETWORK.check(host, family === 4 ? "ipv4" : "ipv6"));
  if (inside) refuse("an address on the app's own network (loopback, private or link-local) receives no events");
}

export function webhookUseCases(deps: WebhookDeps): WebhookUseCases {
  const { store } = deps;
  const adminOnly = (caller: Principal) => {
    if (caller.role !== "admin") throw new Failure("forbidden", "Only admins manage the webhook subscriptions.");
  };
  return {
    async create(caller, input) {
      adminOnly(caller);
      if (!deps.allowHttp) refuseUnsafeUrl(new URL(input.url));
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
