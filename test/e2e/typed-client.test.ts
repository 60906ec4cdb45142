import createClient, { type Middleware } from "openapi-fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { components, paths } from "../../shared/client/api-types.js";
import { parseBody, validateResponse } from "../support/contract.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * The seed scenario (../shared/seed/osticket-ticket-lifecycle.md) driven as a web app
 * would drive it: openapi-fetch over the types generated from the document
 * (shared/client/api-types.ts). tsc checks this file, so a path, a field or a query
 * parameter the document does not have fails the type check before any test runs; every
 * response is also held to the document (bodies and headers) on the way in.
 */

type Ticket = components["schemas"]["Ticket"];
type Entry = components["schemas"]["TimelineEntry"];

let t: TestHost;
let checked = 0;

/** Every answer the typed client gets goes through the same contract check as TestHost.call's. */
const contract: Middleware = {
  async onResponse({ request, response }) {
    validateResponse(
      request.method,
      request.url,
      response.status,
      response.headers.get("content-type"),
      parseBody(await response.clone().text()),
      response.headers,
    );
    checked++;
    return response;
  },
};

/** A client as the signed-in person: comma-separated lists, as the document's `explode: false` says. */
async function clientOf(person: (typeof PEOPLE)[keyof typeof PEOPLE]) {
  const client = createClient<paths>({
    baseUrl: t.url,
    headers: { authorization: `Bearer ${await t.token(person)}` },
    querySerializer: { array: { style: "form", explode: false } },
  });
  client.use(contract);
  return client;
}

/** The data of an operation that succeeded, or the failure's problem+json in the test's message. */
function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) throw new Error(`${result.response.status}: ${JSON.stringify(result.error)}`);
  return result.data;
}

beforeAll(async () => {
  t = await startTestHost();
});
afterAll(() => t.close());

describe("the typed client (openapi-fetch over the generated types)", () => {
  it("replays the seed scenario: three tickets at normal, triage, assignment to Jane, two notes, two closes", async () => {
    const [karen, ken, qa, jane] = await Promise.all([
      clientOf(PEOPLE.karen),
      clientOf(PEOPLE.ken),
      clientOf(PEOPLE.qa),
      clientOf(PEOPLE.jane),
    ]);

    // Intake: Karen Karen, Ken Ken and Karen Karen open a ticket each, at normal priority.
    const open = async (client: typeof karen, subject: string, description: string) => {
      const result = await client.POST("/tickets", { body: { subject, description } });
      expect(result.response.status).toBe(201);
      expect(result.response.headers.get("location")).toBe(`/api/tickets/${ok(result).id}`);
      return ok(result);
    };
    const banking = await open(karen, "Mobile banking is down", "The entire mobile banking is down: no customer can log in.");
    const vpn = await open(ken, "Branch VPN unreachable", "Nobody at the downtown branch can reach the VPN; tellers cannot work.");
    const computers = await open(karen, "When will we receive the new computers?", "Our team was promised new computers this month.");
    expect([banking, vpn, computers].map((x) => x.priority)).toEqual(["normal", "normal", "normal"]);

    // A retry with the same Idempotency-Key creates nothing and says so.
    const key = { params: { header: { "Idempotency-Key": "seed-computers-1" } } };
    const first = await karen.POST("/tickets", { ...key, body: { subject: "Retry me", description: "Once only." } });
    const again = await karen.POST("/tickets", { ...key, body: { subject: "Retry me", description: "Once only." } });
    expect(again.response.headers.get("idempotent-replayed")).toBe("true");
    expect(ok(again).id).toBe(ok(first).id);

    // The QA agent triages: the outage is an emergency, the branch VPN SEV-A (both business-impacting).
    const path = (ticket: Ticket) => ({ params: { path: { id: ticket.id } } });
    const raised = ok(
      await qa.PATCH("/tickets/{id}", {
        ...path(banking),
        body: { priority: "emergency", reason: "Business-impacting: the entire mobile banking is down." },
      }),
    );
    expect(raised).toMatchObject({ priority: "emergency", escalation: { state: "triggered" } });
    const sev = ok(
      await qa.PATCH("/tickets/{id}", {
        ...path(vpn),
        body: { severity: "SEV-A", reason: "Business-impacting: a whole branch cannot work." },
      }),
    );
    expect(sev.severity).toBe("SEV-A");

    // The emergency goes to Jane Doe, known to the directory from her first call.
    const agents = ok(await jane.GET("/agents")).items;
    const janeId = agents.find((a) => a.email === PEOPLE.jane.email)!.id;
    const read = await jane.GET("/tickets/{id}", path(banking));
    const etag = read.response.headers.get("etag")!;
    const assigned = ok(
      await qa.PUT("/tickets/{id}/assignee", {
        params: { path: { id: banking.id }, header: { "If-Match": etag } },
        body: { agentId: janeId },
      }),
    );
    expect(assigned.assignee).toEqual({ id: janeId, name: PEOPLE.jane.name });
    // The ETag read before the assignment is stale now: the typed client gets the 412 problem.
    const stale = await qa.DELETE("/tickets/{id}/assignee", { params: { path: { id: banking.id }, header: { "If-Match": etag } } });
    expect(stale.response.status).toBe(412);
    expect(stale.error?.title).toBe("Precondition failed");

    // Jane acknowledges the page, writes two internal notes, and closes the ticket.
    expect(ok(await jane.POST("/tickets/{id}/escalation/acknowledge", path(banking))).escalation?.state).toBe("acknowledged");
    for (const body of [
      "Collaborating with the system administrators team to solve the problem.",
      "Franck from the system administrators team found and corrected the issue.",
    ]) {
      const note = ok(await jane.POST("/tickets/{id}/comments", { ...path(banking), body: { body, visibility: "internal" } }));
      expect(note).toMatchObject({ type: "comment", visibility: "internal", data: { body } });
    }
    const resolution = "Franck (system administrators) found and corrected the issue; mobile banking is back.";
    const closed = ok(await jane.POST("/tickets/{id}/status", { ...path(banking), body: { status: "closed", resolution } }));
    expect(closed).toMatchObject({ status: "closed", resolution, escalation: { state: "resolved" } });
    // She also closes Karen's question about the new computers.
    const answered = ok(
      await jane.POST("/tickets/{id}/status", {
        ...path(computers),
        body: { status: "closed", resolution: "The new computers are ordered; IT will schedule the installation with your team." },
      }),
    );
    expect(answered.status).toBe("closed");

    // Karen's closed tickets, through a comma-separated status filter.
    const mine = ok(
      await karen.GET("/tickets", { params: { query: { requester: "me", status: ["closed", "resolved"], sort: "priority" } } }),
    );
    expect(mine.items.map((x) => x.id).sort()).toEqual([banking.id, computers.id].sort());

    // The entries narrow by type: each type's data is its own (a misspelt field fails tsc).
    const timelineOf = async (client: typeof karen, ticket: Ticket) => ok(await client.GET("/tickets/{id}/timeline", path(ticket))).items;
    const story = (entries: Entry[]) =>
      entries.map((e) => {
        switch (e.type) {
          case "opened":
            return `opened at ${e.data.priority}`;
          case "priority_changed":
            return `priority ${e.data.from} -> ${e.data.to}`;
          case "assigned":
            return `assigned to ${e.data.to.name}`;
          case "comment":
            return `${e.visibility} comment: ${e.data.body}`;
          case "status_changed":
            return `status ${e.data.from} -> ${e.data.to}${e.data.resolution ? ` (${e.data.resolution})` : ""}`;
          case "sla_achieved":
            return `sla_achieved ${e.data.target}`;
          default:
            return e.type;
        }
      });
    // The notifier's delivery records come as the alerts go out, in their own time: apart.
    const everything = await timelineOf(jane, banking);
    const delivered = everything.flatMap((e) => (e.type === "escalation_notified" ? [`${e.data.event} to ${e.data.channel}`] : []));
    expect(delivered[0]).toBe("triggered to console");
    expect(story(everything.filter((e) => e.type !== "escalation_notified"))).toEqual([
      "opened at normal",
      "priority normal -> emergency",
      "escalation_triggered",
      "assigned to Jane Doe",
      "escalation_acknowledged",
      "internal comment: Collaborating with the system administrators team to solve the problem.",
      "internal comment: Franck from the system administrators team found and corrected the issue.",
      `status open -> closed (${resolution})`,
      "escalation_resolved",
      // Closed with a resolution: both SLA targets achieved (the notes were no response).
      "sla_achieved resolution",
      "sla_achieved firstResponse",
    ]);
    // Karen sees only the public part: no triage, no assignment, no notes.
    expect(story(await timelineOf(karen, banking))).toEqual(["opened at normal", `status open -> closed (${resolution})`]);
    // Every one of the scenario's 19 calls went through the contract check.
    expect(checked).toBe(19);
  });

  it("types what a request may leave out: a reply's visibility defaults to public", async () => {
    const karen = await clientOf(PEOPLE.karen);
    const ticket = ok(await karen.POST("/tickets", { body: { subject: "Printer", description: "It jams." } }));
    const reply = { body: "Still jamming." } satisfies components["schemas"]["Comment"];
    const entry = ok(await karen.POST("/tickets/{id}/comments", { params: { path: { id: ticket.id } }, body: reply }));
    expect(entry).toMatchObject({ type: "comment", visibility: "public" });
    // A conditional GET: the ETag of the last answer, sent back, is a 304 with no body.
    const read = await karen.GET("/tickets/{id}", { params: { path: { id: ticket.id } } });
    const etag = read.response.headers.get("etag")!;
    const same = await karen.GET("/tickets/{id}", { params: { path: { id: ticket.id }, header: { "If-None-Match": etag } } });
    expect(same.response.status).toBe(304);
    expect(same.response.headers.get("etag")).toBe(etag);
    // Another requester's ticket is a 404 problem, typed as such.
    const ken = await clientOf(PEOPLE.ken);
    const hidden = await ken.GET("/tickets/{id}", { params: { path: { id: ticket.id } } });
    expect(hidden.response.status).toBe(404);
    expect(hidden.error).toMatchObject({ status: 404, title: "Not found" });
  });
});
