import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectCosmos, EMBEDDED_KEY, ticketsContainer } from "../shared/adapters/cosmos/connect.js";
import { loadConfig } from "../shared/app/config.js";
import { signDevToken } from "../shared/local/dev-issuer.js";
import { startHost } from "../shared/local/host.js";
import { silentRequestLog } from "../shared/local/request-log.js";
import { DEFAULT_SLA_POLICY, type SlaPolicyBody } from "../shared/sla/domain/policy.js";
import { percentile } from "./stats.js";
import { inParallel } from "./pool.js";
import { apiCall } from "./api-call.js";

/**
 * The SLA timers on the local host: TICKETS tickets (1,000 by default) opened at once with
 * a first response due 10 s after intake, a third of them re-targeted (triaged to high) and
 * a third put on hold and resumed before then, the rest left alone. A ticket's timer is a
 * message scheduled for its clocks' next instant on the in-process `ticket-timers` queue,
 * through the outbox. Prints how late each warning and breach entry lands after its instant (p50, p99,
 * max), and how many timer messages were scheduled and not yet due for one ticket at most
 * (none is ever cancelled: a stale one finds nothing to do).
 */
const N = Number(process.env.TICKETS ?? 1000);
const CONCURRENCY = 10;
const SECOND = 1 / 60;

const around = (firstResponse: number, warn: number) => ({
  clock: "always" as const,
  firstResponse: { minutes: firstResponse * SECOND, warnBeforeMinutes: warn * SECOND },
  resolution: { minutes: 60, warnBeforeMinutes: 10 },
});
const POLICY: SlaPolicyBody = {
  calendar: DEFAULT_SLA_POLICY.calendar,
  targets: { emergency: around(10, 3), high: around(12, 3), normal: around(10, 3), low: around(10, 3) },
};

const dir = await mkdtemp(join(tmpdir(), "helpdesk-bench-"));
// Rate limits out of the way: one requester opens all the tickets.
const limits = { RATE_LIMIT_CALLER_POINTS: "1000000", RATE_LIMIT_ANONYMOUS_POINTS: "1000000" };
const host = await startHost({ config: loadConfig(limits), local: { port: 0, dir, store: "memory" }, requestLog: silentRequestLog });
const quiet = console.log;
console.log = () => {}; // the host's own lines (alerts to the console): not what is measured

interface Entry {
  type: string;
  at: string;
  data: { target?: string; dueAt?: string };
}

try {
  const karen = await signDevToken(dir, { name: "Karen Karen", email: "karen@example.com" });
  const jane = await signDevToken(dir, { name: "Jane Doe", email: "jane@example.com", role: "agent" });
  const admin = await signDevToken(dir, { name: "Ada Admin", email: "ada@example.com", role: "admin" });
  const call = async (token: string, method: string, path: string, body?: unknown) =>
    (await apiCall(host.url, token, method, path, body)).json;
  await call(admin, "PUT", "/sla/policy", POLICY);

  const started = performance.now();
  const ids: string[] = [];
  await inParallel(N, CONCURRENCY, async (i) => {
    ids[i] = (await call(karen, "POST", "/tickets", { subject: `Timed ${i}`, description: "SLA bench", priority: "normal" })).id;
  });
  const opened = performance.now() - started;
  await inParallel(N, CONCURRENCY, async (i) => {
    const id = ids[i]!;
    if (i % 3 === 1) await call(jane, "PATCH", `/tickets/${id}`, { priority: "high" });
    if (i % 3 === 2) {
      await call(jane, "POST", `/tickets/${id}/status`, { status: "on_hold" });
      await call(jane, "POST", `/tickets/${id}/status`, { status: "in_progress" });
    }
  });
  const changed = performance.now() - started;

  // Every first response breaches by 12 s after its intake: read the timelines once they all
  // should have (reading them meanwhile would load the host whose lateness is measured).
  await new Promise((r) => setTimeout(r, Math.max(0, started + opened + 13_000 - performance.now())));
  const warnings: number[] = [];
  const breaches: number[] = [];
  const deadline = Date.now() + 30_000;
  const pending = new Set(ids);
  while (pending.size && Date.now() < deadline) {
    await inParallel(ids.length, CONCURRENCY, async (i) => {
      const id = ids[i]!;
      if (!pending.has(id)) return;
      const { items } = (await call(jane, "GET", `/tickets/${id}/timeline?limit=100`)) as { items: Entry[] };
      const of = (type: string) => items.filter((e) => e.type === type && e.data.target === "firstResponse");
      const breach = of("sla_breached");
      if (breach.length === 0) return;
      if (breach.length !== 1) throw new Error(`${id}: ${breach.length} breaches`);
      // Late: from the instant the clock set (the entry's dueAt; each warning 3 s before its own) to the entry.
      breaches.push(Date.parse(breach[0]!.at) - Date.parse(breach[0]!.data.dueAt!));
      // A re-target after the warning moves the warning time: it warns again, for the new one.
      for (const w of of("sla_warning")) warnings.push(Date.parse(w.at) - (Date.parse(w.data.dueAt!) - 3000));
      pending.delete(id);
    });
    if (pending.size) await new Promise((r) => setTimeout(r, 1000));
  }
  if (pending.size) throw new Error(`${pending.size} tickets had no breach within 60 s`);

  // Outstanding per ticket: timer messages scheduled (their outbox entry written) and not yet due.
  const client = await connectCosmos({ endpoint: host.standIns.embeddedCosmos()!.endpoint, key: EMBEDDED_KEY });
  const { resources: timers } = await ticketsContainer(client, host.composition.config.cosmos.database)
    .items.query<{ ticketId: string; createdAt: string; scheduledAt: string }>(
      "SELECT c.ticketId, c.createdAt, c.scheduledAt FROM c WHERE c.type = 'outbox' AND c.queue = 'ticket-timers'",
    )
    .fetchAll();
  client.dispose();
  const byTicket = new Map<string, { createdAt: string; scheduledAt: string }[]>();
  for (const t of timers) byTicket.set(t.ticketId, [...(byTicket.get(t.ticketId) ?? []), t]);
  let most = 0;
  let mostTotal = 0;
  for (const list of byTicket.values()) {
    mostTotal = Math.max(mostTotal, list.length);
    // At each scheduling, the ones set by then and not yet due.
    for (const at of list.map((t) => Date.parse(t.createdAt)))
      most = Math.max(most, list.filter((t) => Date.parse(t.createdAt) <= at && Date.parse(t.scheduledAt) > at).length);
  }

  const pct = (values: number[], p: number) =>
    percentile(
      [...values].sort((a, b) => a - b),
      p,
    );
  const line = (name: string, values: number[]) =>
    `  ${name.padEnd(9)} p50 ${pct(values, 50).toFixed(0).padStart(4)} ms   p99 ${pct(values, 99).toFixed(0).padStart(4)} ms   max ${Math.max(
      ...values,
    )
      .toFixed(0)
      .padStart(4)} ms   p99 / 1 s budget ${(pct(values, 99) / 1000).toFixed(3)}`;
  quiet(
    `SLA timers over ${N} tickets (opened in ${(opened / 1000).toFixed(1)} s, ${Math.round(N / 3)} re-targeted and ${Math.round(N / 3)} paused by ${(changed / 1000).toFixed(1)} s):`,
  );
  quiet("how late each entry lands after its instant:");
  quiet(line("warning", warnings));
  quiet(line("breach", breaches));
  quiet(
    `scheduled timer messages: ${timers.length} in all, at most ${mostTotal} for one ticket; outstanding (scheduled, not yet due) for one ticket at most: ${most}`,
  );
} finally {
  console.log = quiet;
  await host.close();
  await rm(dir, { recursive: true, force: true });
}
