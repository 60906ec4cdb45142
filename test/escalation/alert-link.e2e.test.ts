import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlertReceiver, type AlertReceiver } from "../support/alert-receiver.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * With TICKET_URL_TEMPLATE unset, an alert links to the host that sent it, on the port it
 * actually got: the tests' host asks for port 0, so a link to the default port 7071 fails here.
 */
const SECRET = "test-webhook-secret-0123456789";
let webhook: AlertReceiver;
let t: TestHost;
beforeAll(async () => {
  webhook = await startAlertReceiver();
  t = await startTestHost({ ALERT_WEBHOOK_URL: webhook.url, ALERT_WEBHOOK_SECRET: SECRET });
});
afterAll(async () => {
  await t.close();
  await webhook.close();
});

describe("the link in an alert", () => {
  it("points at this host's own port when TICKET_URL_TEMPLATE is unset", async () => {
    const qa = await t.token(PEOPLE.qa);
    const opened = await t.call(qa, "POST", "/tickets", {
      body: { subject: "Mobile banking is down", description: "No customer can log in.", priority: "emergency" },
    });
    expect(opened.status).toBe(201);
    const [delivery] = await webhook.waitFor(1, (d) => d.body.includes(opened.body.number as string));
    const { alert } = delivery!.json as { alert: { link: string } };
    expect(new URL(t.url).port).not.toBe("7071");
    expect(alert.link).toBe(`${t.url}/tickets/${opened.body.id}`);
  });
});
