import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * A requester's view reveals nothing internal: their ETag and the updatedAt they see move
 * only with what they can see (a public reply, a status change, a field of their view),
 * never with internal notes; If-Match compares against their own ETag; they see agents by
 * name only, never by directory id.
 */
let t: TestHost;
let karen: string;
let jane: string;
beforeAll(async () => {
  t = await startTestHost();
  [karen, jane] = await Promise.all([t.token({ name: "Karen Viewer", email: "karen.viewer@example.com" }), t.token(PEOPLE.jane)]);
});
afterAll(() => t.close());

async function openOne() {
  const opened = await t.call(karen, "POST", "/tickets", { body: { subject: "Printer", description: "jams" } });
  expect(opened.status).toBe(201);
  return opened.body as { id: string };
}

describe("what a requester sees", () => {
  it("internal notes change neither their ETag nor their updatedAt; a public reply changes both", async () => {
    const { id } = await openOne();
    const before = await t.call(karen, "GET", `/tickets/${id}`);
    const agentBefore = await t.call(jane, "GET", `/tickets/${id}`);
    for (const body of ["note one", "note two"]) {
      expect((await t.call(jane, "POST", `/tickets/${id}/comments`, { body: { body, visibility: "internal" } })).status).toBe(201);
    }
    const after = await t.call(karen, "GET", `/tickets/${id}`);
    expect(after.headers.get("etag")).toBe(before.headers.get("etag"));
    expect(after.body.updatedAt).toBe(before.body.updatedAt);
    // Agents see the notes as changes.
    expect((await t.call(jane, "GET", `/tickets/${id}`)).headers.get("etag")).not.toBe(agentBefore.headers.get("etag"));

    expect((await t.call(jane, "POST", `/tickets/${id}/comments`, { body: { body: "On it.", visibility: "public" } })).status).toBe(201);
    const replied = await t.call(karen, "GET", `/tickets/${id}`);
    expect(replied.headers.get("etag")).not.toBe(before.headers.get("etag"));
    expect(Date.parse(replied.body.updatedAt)).toBeGreaterThan(Date.parse(before.body.updatedAt));
  });

  it("If-Match compares against the requester's own ETag: internal notes do not make it stale", async () => {
    const { id } = await openOne();
    const etag = (await t.call(karen, "GET", `/tickets/${id}`)).headers.get("etag")!;
    await t.call(jane, "POST", `/tickets/${id}/comments`, { body: { body: "psst", visibility: "internal" } });
    const reply = await t.call(karen, "POST", `/tickets/${id}/comments`, { body: { body: "any news?" }, headers: { "if-match": etag } });
    expect(reply.status).toBe(201);
    // Her reply is a change she sees: the old ETag is stale now.
    const late = await t.call(karen, "POST", `/tickets/${id}/status`, {
      body: { status: "closed", resolution: "ok" },
      headers: { "if-match": etag },
    });
    expect(late.status).toBe(412);
  });

  it("sees the assignee and the agents of the timeline by name only, never by directory id", async () => {
    const { id } = await openOne();
    await t.call(jane, "GET", "/agents"); // Jane is known to the directory from her first call
    const janeId = (await t.call(jane, "GET", "/agents")).body.items.find((a: { name: string }) => a.name === PEOPLE.jane.name)
      .id as string;
    expect((await t.call(jane, "PUT", `/tickets/${id}/assignee`, { body: { agentId: janeId } })).status).toBe(200);
    await t.call(jane, "POST", `/tickets/${id}/comments`, { body: { body: "Looking into it.", visibility: "public" } });
    const mine = await t.call(karen, "GET", `/tickets/${id}`);
    expect(mine.body.assignee).toEqual({ name: PEOPLE.jane.name });
    const timeline = await t.call(karen, "GET", `/tickets/${id}/timeline`);
    const byJane = (timeline.body.items as { actor: { id?: string; name: string; role: string } }[]).filter(
      (e) => e.actor.role !== "requester",
    );
    expect(byJane.map((e) => e.actor)).toEqual([{ name: PEOPLE.jane.name, role: "agent" }]);
    for (const body of [mine.body, timeline.body]) expect(JSON.stringify(body)).not.toContain(janeId);
    // Agents still see the id.
    expect((await t.call(jane, "GET", `/tickets/${id}`)).body.assignee).toEqual({ id: janeId, name: PEOPLE.jane.name });
  });
});
