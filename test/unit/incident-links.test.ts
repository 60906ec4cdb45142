import { describe, expect, it } from "vitest";
import * as commands from "../../shared/tickets/domain/commands.js";
import type { Ticket } from "../../shared/tickets/domain/model.js";

/** What an incident makes of the word that a report was linked or unlinked (commands.countChild), in any order. */
const karen = { id: "karen", name: "Karen", email: "karen@example.com", role: "requester" as const };
const now = "2026-12-01T10:00:00.000Z";
const incident: Ticket = commands.openTicket(
  { subject: "Down", description: "All down." },
  karen,
  { id: "inc", number: "11111111", requesterId: () => "x" },
  now,
).ticket;
const report = { id: "r1", number: "22222222" };
const count = (t: Ticket) => t.children?.count ?? 0;

describe("an incident's count of reports", () => {
  it("moves once per link, whatever repeats", () => {
    const linked = commands.countChild(incident, report, true, 3, null, now);
    expect(count(linked.ticket)).toBe(1);
    expect(linked.entries.map((e) => e.type)).toEqual(["child_linked"]);
    expect(commands.countChild(linked.ticket, report, true, 3, { seq: 3, linked: true }, now).entries).toEqual([]);
    const unlinked = commands.countChild(linked.ticket, report, false, 5, { seq: 3, linked: true }, now);
    expect(count(unlinked.ticket)).toBe(0);
  });

  it("is exact when the words come out of order: an older one changes nothing", () => {
    // The unlink (entry 5) arrives before the link it undoes (entry 3).
    const early = commands.countChild(incident, report, false, 5, null, now);
    expect(count(early.ticket)).toBe(0);
    // Said all the same, so that its record is written under the incident's etag.
    expect(early.entries.map((e) => e.type)).toEqual(["child_unlinked"]);
    expect(commands.countChild(incident, report, true, 3, { seq: 5, linked: false }, now).entries).toEqual([]);
  });

  it("refuses a report while it is a report itself, or closed: it says why and counts nothing", () => {
    const asReport = { ...incident, parent: { id: "top", number: "33333333" } };
    const refused = commands.countChild(asReport, report, true, 3, null, now);
    expect(count(refused.ticket)).toBe(0);
    expect(refused.entries).toEqual([
      expect.objectContaining({
        type: "link_refused",
        visibility: "internal",
        data: { child: report, why: "#11111111 is itself a report of #33333333" },
      }),
    ]);
    expect(commands.countChild({ ...incident, status: "closed" }, report, true, 3, null, now).entries[0]).toMatchObject({
      data: { why: "#11111111 is closed" },
    });
  });
});
