import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../shared/app/config.js";
import { signDevToken } from "../shared/local/dev-issuer.js";
import { startHost } from "../shared/local/host.js";
import { silentRequestLog } from "../shared/local/request-log.js";
import { startAlertReceiver } from "../test/support/alert-receiver.js";
import { percentile } from "./stats.js";
import { apiCall } from "./api-call.js";

/**
 * Time to alert on the local host: from the response of the triage PATCH that
 * makes a ticket an emergency to the webhook receiving the signed alert, over
 * N escalations (outbox write, dispatch, queue, notifier, HTTP delivery).
 */
const N = Number(process.env.ESCALATIONS ?? 200);

const dir = await mkdtemp(join(tmpdir(), "helpdesk-bench-"));
const webhook = await startAlertReceiver();
const host = await startHost({
  config: loadConfig({ ALERT_WEBHOOK_URL: webhook.url, ALERT_WEBHOOK_SECRET: "bench-secret-0123456789" }),
  local: { port: 0, dir, store: "memory" },
  requestLog: silentRequestLog,
});
// The console channel would print 200 alerts; the webhook is what is measured.
const quiet = console.log;
console.log = () => {};
try {
  const karen = await signDevToken(dir, { name: "Karen Karen", email: "karen@example.com" });
  const qa = await signDevToken(dir, { name: "Quinn QA", email: "qa@example.com", role: "agent" });
  const call = async (token: string, method: string, path: string, body: unknown) =>
    (await apiCall(host.url, token, method, path, body)).json as { id: string; number: string };
  const latencies: number[] = [];
  for (let i = 0; i < N; i++) {
    const ticket = await call(karen, "POST", "/tickets", { subject: `Outage ${i}`, description: "business-impacting" });
    const before = webhook.delivered().length;
    await call(qa, "PATCH", `/tickets/${ticket.id}`, { priority: "emergency" });
    const responded = performance.now();
    const [alert] = (await webhook.waitFor(before + 1)).slice(before);
    if (!alert!.body.includes(ticket.number)) throw new Error("the alert is for another ticket");
    latencies.push(alert!.at - responded);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => percentile(latencies, p);
  quiet(`time to alert over ${N} escalations (PATCH response → webhook received):`);
  quiet(`  p50 ${pct(50).toFixed(1)} ms   p99 ${pct(99).toFixed(1)} ms   max ${latencies.at(-1)!.toFixed(1)} ms`);
  quiet(`  p99 / 1 s budget: ${(pct(99) / 1000).toFixed(3)}   p99 / p50: ${(pct(99) / pct(50)).toFixed(2)}`);
} finally {
  console.log = quiet;
  await host.close();
  await webhook.close();
  await rm(dir, { recursive: true, force: true });
}
