import { parseArgs } from "node:util";
import { loadConfig } from "../app/config.js";
import { apiBaseUrl, unreachable } from "./api-url.js";
import { signDevToken, type DevUser } from "./dev-issuer.js";
import { startHost, type Host } from "./host.js";
import { silentRequestLog } from "./request-log.js";
import { loadLocalConfig } from "./local-config.js";

/**
 * `npm run demo`: the seed walkthrough (DESIGN.md section 1) replayed over HTTP
 * against the local host, starting one if none answers. Every step states what
 * the scenario expects; the first step that gets anything else ends the demo
 * with exit code 1.
 */

const USAGE = "usage: npm run demo [-- --url http://localhost:7071]   (the host's address, with or without /api)";

function usage(why: string): never {
  console.error(`${why}\n${USAGE}`);
  process.exit(2);
}

function options() {
  try {
    const { values } = parseArgs({ options: { url: { type: "string" }, help: { type: "boolean", short: "h" } } });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    return { url: values.url === undefined ? undefined : apiBaseUrl(values.url) };
  } catch (e) {
    return usage((e as Error).message);
  }
}

const values = options();
const local = loadLocalConfig();
let baseUrl = values.url ?? `http://localhost:${local.port}/api`;

class StepFailed extends Error {}

interface Response {
  status: number;
  headers: Headers;
  body: any;
}

const PEOPLE = {
  karen: { name: "Karen Karen", email: "karen.karen@example.com" },
  ken: { name: "Ken Ken", email: "ken.ken@example.com" },
  qa: { name: "Quinn QA", email: "quinn.qa@example.com", role: "agent" },
  jane: { name: "Jane Doe", email: "jane.doe@example.com", role: "agent" },
} satisfies Record<string, DevUser>;
/** The twenty more customers who report the same outage (issue "Major incidents"). */
const CUSTOMERS = Array.from({ length: 20 }, (_, i) => ({ name: `Customer ${i + 1}`, email: `customer.${i + 1}@example.com` }));
type Who = keyof typeof PEOPLE | `customer${number}`;
const tokens = {} as Record<Who, string>;
const nameOf = (who: Who): string => (who in PEOPLE ? PEOPLE[who as keyof typeof PEOPLE].name : CUSTOMERS[Number(who.slice(8))]!.name);

let stepNo = 0;

async function call(who: Who, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${tokens[who]}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** One step of the scenario: a request, and what its response must be. */
async function step(
  title: string,
  who: Who,
  method: string,
  path: string,
  body: unknown,
  expect: Record<string, unknown> & { http: number },
) {
  stepNo++;
  const res = await call(who, method, path, body);
  const problems: string[] = [];
  if (res.status !== expect.http)
    problems.push(`HTTP ${res.status}, expected ${expect.http}${res.body?.detail ? ` (${res.body.detail})` : ""}`);
  for (const [field, want] of Object.entries(expect)) {
    if (field === "http") continue;
    const got = field.split(".").reduce((v: unknown, k) => (v as Record<string, unknown> | null)?.[k], res.body);
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${field} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
  const label = `${String(stepNo).padStart(2)}. ${nameOf(who)}: ${title}`;
  if (problems.length) {
    console.log(`✘ ${label}\n     ${problems.join("\n     ")}`);
    throw new StepFailed(label);
  }
  const summary = res.body?.number
    ? ` → ${res.status} #${res.body.number} ${res.body.status} / ${res.body.priority} / ${res.body.severity ?? "no severity"}`
    : ` → ${res.status}`;
  console.log(`✔ ${label}${summary}`);
  return res.body;
}

interface Entry {
  type: string;
  data: Record<string, unknown>;
}

/** Escalation runs after the write (outbox, queue, notifier): wait for its entry, up to 10 s. */
async function waitForEntry(who: Who, ticketId: string, match: (e: Entry) => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const res = await call(who, "GET", `/tickets/${ticketId}/timeline?limit=100`);
    if ((res.body.items as Entry[]).some(match)) {
      console.log(`   … ${what}: delivered`);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new StepFailed(`${what}: not delivered within 10 s`);
}

/** Waits for what runs after a write (the queue), up to 10 s. */
async function waitFor(done: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await done()) {
      console.log(`   … ${what}: done`);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new StepFailed(`${what}: not done within 10 s`);
}

/**
 * The incident's one page, and what a sample of the twenty-one requesters see: the update on
 * their own ticket, and their ticket closed, with nothing of the incident or of the others.
 */
async function printIncident(incident: { id: string; number: string }, reports: { id: string; number: string }[], update: string) {
  const pages = (await call("jane", "GET", `/tickets/${incident.id}/timeline?limit=100`)).body.items.filter(
    (e: Entry) => e.type === "escalation_notified" && e.data.event === "triggered",
  );
  const channels = pages.map((e: Entry) => String(e.data.channel)).join(", ");
  console.log(`\n  Ops was paged once for the outage: #${incident.number}, page 1 (${channels}); the 20 reports paged nothing`);
  for (const r of reports) {
    const own = (await call("jane", "GET", `/tickets/${r.id}/timeline?limit=100`)).body.items as Entry[];
    if (own.some((e) => e.type.startsWith("escalation_"))) throw new StepFailed(`report #${r.number} paged ops`);
  }
  const everyone: [Who, { id: string }][] = [["karen", incident], ...reports.map((r, i): [Who, { id: string }] => [`customer${i}`, r])];
  let reached = 0;
  for (const [who, { id }] of everyone) {
    const [view, timeline] = await Promise.all([call(who, "GET", `/tickets/${id}`), call(who, "GET", `/tickets/${id}/timeline?limit=100`)]);
    const replies = (timeline.body.items as Entry[]).filter((e) => e.type === "comment" && e.data.body === update);
    if (view.body.status !== "closed" || replies.length !== 1)
      throw new StepFailed(`${nameOf(who)}'s ticket is ${view.body.status}, with ${replies.length} updates`);
    if (JSON.stringify([view.body, timeline.body]).includes(incident.number) && who !== "karen")
      throw new StepFailed(`${nameOf(who)} sees the incident's number`);
    reached++;
  }
  console.log(`  All ${reached} requesters got the update once and see their ticket closed; two of them:`);
  for (const [who, { id }] of [everyone[1]!, everyone[20]!]) {
    const timeline = await call(who, "GET", `/tickets/${id}/timeline?limit=100`);
    printTimeline(`${nameOf(who)} (requester) sees:`, timeline.body.items);
  }
}

function printTimeline(
  title: string,
  items: { at: string; type: string; visibility: string; actor: { name: string }; data: Record<string, unknown> }[],
) {
  console.log(`\n  ${title}`);
  for (const e of items) {
    const text = (v: unknown) => (typeof v === "string" ? v : "");
    const show = (v: unknown) => (v && typeof v === "object" && "name" in v ? String(v.name) : JSON.stringify(v));
    const detail =
      e.type === "comment"
        ? `"${text(e.data.body)}"`
        : e.type === "incident_linked"
          ? text(e.data.note)
          : e.type === "child_linked" || e.type === "child_unlinked"
            ? `report #${(e.data.child as { number: string }).number}`
            : e.type === "broadcast_started"
              ? `to every report: ${e.data.action === "move" ? `move to ${text(e.data.to)}` : "the reply above"}`
              : e.type === "escalation_notified"
                ? `${text(e.data.event)} → ${text(e.data.channel)}`
                : e.type.startsWith("escalation_")
                  ? text(e.data.cause)
                  : e.type.startsWith("sla_")
                    ? `${text(e.data.target)}, due ${text(e.data.dueAt).slice(11, 19)}`
                    : e.data.to !== undefined
                      ? `${show(e.data.from)} → ${show(e.data.to)}`
                      : text(e.data.subject);
    console.log(`    ${e.at.slice(11, 19)}  ${e.visibility.padEnd(8)} ${e.type.padEnd(23)} ${e.actor.name.padEnd(19)} ${detail}`);
  }
}

async function scenario(): Promise<void> {
  console.log("Intake: three tickets from end users, all at priority normal");
  const banking = await step(
    "opens “Mobile banking is down”",
    "karen",
    "POST",
    "/tickets",
    { subject: "Mobile banking is down", description: "The entire mobile banking is down: no customer can log in." },
    { http: 201, priority: "normal", severity: null },
  );
  const vpn = await step(
    "opens “Branch VPN unreachable”",
    "ken",
    "POST",
    "/tickets",
    { subject: "Branch VPN unreachable", description: "Nobody at the downtown branch can reach the VPN; tellers cannot work." },
    { http: 201, priority: "normal", severity: null },
  );
  const computers = await step(
    "opens “When will we receive the new computers?”",
    "karen",
    "POST",
    "/tickets",
    {
      subject: "When will we receive the new computers?",
      description: "We were told new computers are coming for our team. When will we receive them?",
    },
    { http: 201, priority: "normal" },
  );
  await step("cannot see Ken's ticket", "karen", "GET", `/tickets/${vpn.id}`, undefined, { http: 404 });

  console.log("\nTriage: a QA agent checks priority and severity");
  const queue = await step("reads the queue of open tickets", "qa", "GET", "/tickets?status=open", undefined, { http: 200 });
  const ids = (queue.items as { id: string }[]).map((t) => t.id);
  if (![banking.id, vpn.id, computers.id].every((id) => ids.includes(id))) throw new StepFailed("the queue lacks a ticket just opened");
  await step(
    "raises “Mobile banking is down” to emergency (business-impacting)",
    "qa",
    "PATCH",
    `/tickets/${banking.id}`,
    { priority: "emergency", reason: "Business-impacting: the entire mobile banking is down." },
    { http: 200, priority: "emergency", "escalation.state": "triggered" },
  );
  await step(
    "sets “Branch VPN unreachable” to SEV-A (business-impacting)",
    "qa",
    "PATCH",
    `/tickets/${vpn.id}`,
    { severity: "SEV-A", reason: "Business-impacting: a whole branch cannot work." },
    { http: 200, severity: "SEV-A", "escalation.state": "triggered" },
  );
  console.log("   (both are business-impacting: each pages ops on call, see the alerts printed by the host)");
  await waitForEntry("qa", banking.id, (e) => e.type === "escalation_notified" && e.data.event === "triggered", "the emergency's page");
  await waitForEntry("qa", vpn.id, (e) => e.type === "escalation_notified" && e.data.event === "triggered", "the SEV-A ticket's page");
  await step("sees the emergency first in the queue", "qa", "GET", "/tickets?status=open&limit=100", undefined, {
    http: 200,
    "items.0.id": banking.id,
  });

  console.log("\nAssignment and communication");
  await step("signs in and is known to the help desk", "jane", "GET", "/agents", undefined, { http: 200 });
  const agents = await call("qa", "GET", "/agents");
  const jane = (agents.body.items as { id: string; name: string }[]).find((a) => a.name === "Jane Doe");
  if (!jane) throw new StepFailed("Jane Doe is not among the agents");
  await step(
    "assigns the emergency to Jane Doe",
    "qa",
    "PUT",
    `/tickets/${banking.id}/assignee`,
    { agentId: jane.id },
    { http: 200, "assignee.name": "Jane Doe" },
  );
  await step("acknowledges the page: ops stops re-paging", "jane", "POST", `/tickets/${banking.id}/escalation/acknowledge`, undefined, {
    http: 200,
    "escalation.state": "acknowledged",
    "escalation.acknowledgedBy.name": "Jane Doe",
  });
  await step(
    "starts working it",
    "jane",
    "POST",
    `/tickets/${banking.id}/status`,
    { status: "in_progress" },
    { http: 200, status: "in_progress" },
  );
  await step(
    "notes she is collaborating with the system administrators",
    "jane",
    "POST",
    `/tickets/${banking.id}/comments`,
    { body: "Collaborating with the system administrators team to solve the problem.", visibility: "internal" },
    { http: 201, type: "comment", visibility: "internal" },
  );

  console.log("\nA major incident: twenty more customers report the same outage");
  const reports: { id: string; number: string }[] = [];
  for (const [i, c] of CUSTOMERS.entries()) {
    const opened = await call(`customer${i}`, "POST", "/tickets", {
      subject: "Mobile banking app not working",
      description: `${c.name}: the mobile banking app shows an error since this morning.`,
    });
    if (opened.status !== 201) throw new StepFailed(`${c.name} could not open a ticket: HTTP ${opened.status}`);
    reports.push(opened.body);
  }
  console.log(`✔ ${++stepNo}. 20 customers: open ${reports.length} tickets about the mobile banking app`);
  for (const r of reports) {
    const linked = await call("qa", "PUT", `/tickets/${r.id}/parent`, { ticketId: banking.id });
    if (linked.status !== 200 || linked.body.parent?.id !== banking.id)
      throw new StepFailed(`#${r.number} was not linked: HTTP ${linked.status}`);
  }
  console.log(`✔ ${++stepNo}. Quinn QA: links the ${reports.length} reports to #${banking.number}, the incident (none of them pages ops)`);
  await waitFor(
    async () => (await call("jane", "GET", `/tickets/${banking.id}`)).body.children?.count === reports.length,
    `#${banking.number} counting its ${reports.length} reports`,
  );

  console.log("\nWorking the issue and resolution");
  await step(
    "notes that Franck found and corrected the issue",
    "jane",
    "POST",
    `/tickets/${banking.id}/comments`,
    { body: "Franck from the system administrators team found and corrected the issue.", visibility: "internal" },
    { http: 201, visibility: "internal" },
  );
  const update = "Mobile banking is back: our system administrators found and corrected the issue. Thank you for your patience.";
  const broadcast = await step(
    "tells every reporter at once: a public reply on the incident and on each report",
    "jane",
    "POST",
    `/tickets/${banking.id}/broadcast`,
    { body: update },
    { http: 202 },
  );
  await waitFor(
    async () => (await call("jane", "GET", `/tickets/${banking.id}/broadcasts/${broadcast.id}`)).body.state === "done",
    "the update reaching the 20 reports",
  );
  const closing = await call("jane", "POST", `/tickets/${banking.id}/status`, {
    status: "closed",
    resolution: "Franck (system administrators) found and corrected the issue; mobile banking is back.",
    cascade: true,
  });
  if (closing.status !== 200 || closing.body.status !== "closed" || closing.body.escalation.state !== "resolved")
    throw new StepFailed(`the incident was not closed with its escalation resolved: HTTP ${closing.status}`);
  console.log(`✔ ${++stepNo}. Jane Doe: closes the incident and, cascading, its 20 reports → 200 #${banking.number} closed`);
  const cascade = closing.headers.get("location")!.replace(/^\/api/, "");
  await waitFor(async () => (await call("jane", "GET", cascade)).body.state === "done", "the close reaching the 20 reports");
  await waitForEntry(
    "jane",
    banking.id,
    (e) => e.type === "escalation_notified" && e.data.event === "resolved",
    "ops being told it is resolved",
  );
  await printIncident(banking, reports, update);
  await step(
    "closes Karen's ticket about the new computers",
    "jane",
    "POST",
    `/tickets/${computers.id}/status`,
    { status: "closed", resolution: "The new computers are ordered; IT will schedule the installation with your team." },
    { http: 200, status: "closed" },
  );

  const closed = await call("karen", "GET", `/tickets/${banking.id}`);
  if (closed.body.status !== "closed") throw new StepFailed(`the emergency ticket is ${closed.body.status}, not closed`);

  console.log("\nThe emergency ticket's timeline, as each party sees it");
  const agentView = await step("reads the full timeline", "jane", "GET", `/tickets/${banking.id}/timeline?limit=100`, undefined, {
    http: 200,
  });
  const requesterView = await step("reads her timeline", "karen", "GET", `/tickets/${banking.id}/timeline?limit=100`, undefined, {
    http: 200,
  });
  printTimeline("Jane Doe (agent) sees:", agentView.items);
  printTimeline("Karen Karen (requester) sees:", requesterView.items);
  const leaked = (requesterView.items as { visibility: string }[]).filter((e) => e.visibility !== "public");
  if (leaked.length) throw new StepFailed("the requester sees internal entries");
  if (agentView.items.filter((e: { type: string; visibility: string }) => e.type === "comment" && e.visibility === "internal").length !== 2)
    throw new StepFailed("the agent does not see both notes");
  const escalation = (agentView.items as { type: string }[])
    .map((e) => e.type)
    .filter((t) => t.startsWith("escalation_") && t !== "escalation_notified");
  if (escalation.join() !== "escalation_triggered,escalation_acknowledged,escalation_resolved") {
    throw new StepFailed(`the escalation history is ${escalation.join(", ")}`);
  }
  await printSla({ banking, vpn, computers });
}

interface SlaClock {
  status: string;
  dueAt: string;
  achievedAt: string | null;
  breachedAt: string | null;
}

/**
 * Each seed ticket's SLA figures, as agents see them. The emergency's resolution is achieved
 * when Jane closes it, and so is its first response: her notes were internal, no response,
 * and the closing resolution is the first answer Karen got.
 */
async function printSla(tickets: Record<string, { id: string }>): Promise<void> {
  console.log("\nSLA figures (the policy in force; agents see them, requesters see sla: null)");
  const figure = (c: SlaClock) =>
    `${c.status.padEnd(8)} due ${c.dueAt}${c.achievedAt ? `, achieved ${c.achievedAt}` : ""}${c.breachedAt ? `, breached at ${c.breachedAt}` : ""}`;
  for (const [name, { id }] of Object.entries(tickets)) {
    const { body } = await call("jane", "GET", `/tickets/${id}`);
    if (!body.sla) throw new StepFailed(`#${body.number} has no SLA clocks`);
    console.log(`  #${body.number} ${name.padEnd(9)} ${body.priority.padEnd(9)} policy v${body.sla.policyVersion}`);
    console.log(`    first response: ${figure(body.sla.firstResponse)}`);
    console.log(`    resolution:     ${figure(body.sla.resolution)}`);
    if (name !== "banking") continue;
    if (body.sla.resolution.status !== "achieved") throw new StepFailed(`the emergency's resolution is ${body.sla.resolution.status}`);
    // Her notes were internal, no response: the first answer Karen got is the incident's update.
    const karens = (await call("karen", "GET", `/tickets/${id}/timeline?limit=100`)).body.items as (Entry & { at: string })[];
    const answer = karens.find((e) => e.type === "comment");
    if (!answer || body.sla.firstResponse.achievedAt !== answer.at)
      throw new StepFailed("the emergency's first response was not achieved by the update: a note counted as a response");
  }
  if ((await call("karen", "GET", `/tickets/${tickets.banking!.id}`)).body.sla !== null) throw new StepFailed("Karen sees the SLA clocks");
}

const alive = await fetch(`${baseUrl}/health`).then(
  (r) => r.ok,
  (e: unknown) => {
    if (!values.url) return false; // none on the default port: the demo starts its own
    // The host the developer named does not answer: one line that says so, and what to do.
    console.error(`${unreachable(e, baseUrl) ?? String(e)} Start the host there (npm start), or leave out --url: the demo starts its own.`);
    process.exit(1);
  },
);

let host: Host | undefined;
try {
  if (!alive && !values.url) {
    // A throwaway store: the demo's tickets never land in the developer's kept one (LOCAL_DIR/store.json).
    host = await startHost({ config: loadConfig(), local: { ...local, port: 0, store: "memory" }, requestLog: silentRequestLog });
    baseUrl = host.url;
    console.log(`(started a local host on ${baseUrl})\n`);
  } else {
    console.log(`(using the host at ${baseUrl})\n`);
  }
  for (const who of Object.keys(PEOPLE) as (keyof typeof PEOPLE)[]) tokens[who] = await signDevToken(local.dir, PEOPLE[who]);
  for (const [i, c] of CUSTOMERS.entries()) tokens[`customer${i}`] = await signDevToken(local.dir, c);
  await scenario();
  console.log("\nThe seed scenario replayed end to end.");
} catch (e) {
  // A host that stops answering mid-way is one line too, not fetch's stack.
  const gone = unreachable(e, baseUrl);
  console.error(e instanceof StepFailed ? `\nThe scenario failed: ${e.message}` : gone ? `\nThe scenario failed: ${gone}` : e);
  process.exitCode = 1;
} finally {
  await host?.close();
}
