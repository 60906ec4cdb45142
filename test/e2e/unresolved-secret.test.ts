import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * An alert channel's setting that is an unresolved Key Vault reference (or otherwise
 * invalid) turns off that channel, named in the log, and nothing else: the API serves,
 * and the other channels still page.
 */
const REFERENCE = "@Microsoft.KeyVault(SecretUri=https://x.vault.azure.net/secrets/y)";

let t: TestHost;
const errors: string[] = [];
beforeAll(async () => {
  // The composition logs through console.error; the test keeps what it says.
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void errors.push(args.map(String).join(" ")));
  t = await startTestHost({
    TEAMS_WEBHOOK_URL: REFERENCE,
    ALERT_WEBHOOK_URL: "https://hooks.example.com/x",
    ALERT_WEBHOOK_SECRET: REFERENCE,
  });
});
afterAll(async () => {
  await t.close();
  vi.restoreAllMocks();
});

describe("a channel setting Azure could not resolve", () => {
  it("leaves the API serving: health, opening a ticket, escalating it", async () => {
    expect((await t.call(null, "GET", "/health")).status).toBe(200);
    const karen = await t.token(PEOPLE.karen);
    const qa = await t.token(PEOPLE.qa);
    const opened = await t.call(karen, "POST", "/tickets", { body: { subject: "Mobile banking is down", description: "all of it" } });
    expect(opened.status).toBe(201);
    const raised = await t.call(qa, "PATCH", `/tickets/${opened.body.id}`, { body: { priority: "emergency" } });
    expect(raised.status).toBe(200);
    // The page still reaches the channels that are usable (here the local host's console).
    await vi.waitFor(async () => {
      const timeline = await t.call(qa, "GET", `/tickets/${opened.body.id}/timeline`);
      const notified = (timeline.body.items as { type: string; data: { channel: string } }[]).filter(
        (e) => e.type === "escalation_notified",
      );
      expect(notified.map((e) => e.data.channel)).toEqual(["console"]);
    });
  });

  it("names each channel it left off when the notifier is built, and never the value", async () => {
    await t.host.composition.notifier();
    const off = errors.filter((line) => line.startsWith("alert channel off:"));
    expect(off).toEqual([
      "alert channel off: ALERT_WEBHOOK_SECRET is a Key Vault reference that was not resolved",
      "alert channel off: TEAMS_WEBHOOK_URL is a Key Vault reference that was not resolved",
    ]);
    expect(errors.join("\n")).not.toContain("vault.azure.net");
  });
});
