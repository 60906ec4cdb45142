import { describe, expect, it } from "vitest";
import { isFailure } from "../../shared/kernel/failure.js";
import type { Principal } from "../../shared/kernel/principal.js";
import type { Subscription } from "../../shared/notifications/domain/webhook.js";
import type { WebhookStore } from "../../shared/notifications/ports.js";
import { webhookUseCases } from "../../shared/notifications/webhooks.js";

/** Where, in Azure, a subscription may send events (notifications/webhooks.ts): https, and nowhere on the app's own network. */
const ada: Principal = { id: "ada", name: "Ada Admin", email: "ada@example.com", role: "admin" };
const store: WebhookStore = {
  list: async () => [],
  get: async () => null,
  create: async (_: Subscription) => {},
  update: async () => {},
  delete: async () => false,
};
const create = (url: string, allowHttp = false) =>
  webhookUseCases({ store, now: () => new Date(0), allowHttp }).create(ada, { url, events: ["ticket.opened"], secret: "s".repeat(16) });

describe("a webhook's url, in Azure", () => {
  it("is https, to a public address", async () => {
    await expect(create("https://push.example.com/hook")).resolves.toMatchObject({ url: "https://push.example.com/hook" });
    await expect(create("https://20.50.2.1/hook")).resolves.toBeDefined();
    await expect(create("https://[2603:1020::1]/hook")).resolves.toBeDefined();
  });

  it.each([
    "http://push.example.com/hook",
    "https://localhost/hook",
    "https://api.localhost/hook",
    "https://127.0.0.1/hook",
    "https://10.1.2.3/hook",
    "https://172.20.0.1/hook",
    "https://192.168.1.1/hook",
    "https://169.254.169.254/metadata",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://[::1]/hook",
    "https://[fd00::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
  ])("refuses %s, naming the url", async (url) => {
    const refused = await create(url).catch((e: unknown) => e);
    expect(isFailure(refused, "invalid")).toBe(true);
    expect((refused as { errors: { path: string }[] }).errors[0]!.path).toBe("url");
  });

  it("off Azure, takes http and a local receiver (a developer's, a test's)", async () => {
    await expect(create("http://127.0.0.1:8080/hook", true)).resolves.toBeDefined();
  });
});
