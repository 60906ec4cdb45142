import { describe, expect, it } from "vitest";
import { compileEveryResponseSchema, ContractViolation, validateResponse } from "../support/contract.js";

/**
 * The check every e2e response goes through (support/contract.ts): it must be able to
 * fail, or the e2e suites prove nothing about the document.
 */

const JSON_TYPE = "application/json; charset=utf-8";
const PROBLEM_TYPE = "application/problem+json; charset=utf-8";
const url = (path: string) => `http://localhost:7071/api${path}`;

const ticket = () => ({
  id: "t_0123456789abcdef",
  number: "HD-1001",
  subject: "Printer",
  description: "It jams",
  status: "open",
  priority: "normal",
  severity: null,
  category: null,
  requester: { id: "u-karen", name: "Karen Karen", email: "karen.karen@example.com" },
  assignee: null,
  resolution: null,
  createdAt: "2024-05-01T09:00:00.000Z",
  updatedAt: "2024-05-01T09:00:00.000Z",
  resolvedAt: null,
  closedAt: null,
  escalation: null,
  sla: null,
  parent: null,
  children: null,
});

/** What the endpoint sets on every answer once the caller's bucket is taken from. */
const EVERY = { "x-request-id": "r-1", ratelimit: '"caller";r=599;t=1', "ratelimit-policy": '"caller";q=600;w=60' };
/** A single ticket's answer. */
const TICKET = { ...EVERY, etag: '"3"' };

const notFound = { type: "https://helpdesk.example/problems/not-found", title: "Not found", status: 404, detail: "No such ticket." };

const rejection = (f: () => void): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ContractViolation);
    return (e as Error).message;
  }
  throw new Error("the response was accepted");
};

describe("validateResponse", () => {
  it("compiles every response schema the document declares, strictly", () => {
    expect(compileEveryResponseSchema()).toBeGreaterThan(40);
  });

  it("accepts a ticket and a problem as GET /tickets/{id} declares them", () => {
    validateResponse("GET", url("/tickets/t_0123456789abcdef"), 200, JSON_TYPE, ticket(), TICKET);
    validateResponse("GET", url("/tickets/t_0123456789abcdef"), 404, PROBLEM_TYPE, notFound, EVERY);
  });

  it("rejects a body missing a required field, or carrying one the schema does not have", () => {
    const { number: _, ...withoutNumber } = ticket();
    expect(rejection(() => validateResponse("GET", url("/tickets/t_1"), 200, JSON_TYPE, withoutNumber, TICKET))).toMatch(
      /getTicket \(GET \/tickets\/\{id\}\) application\/json: the body does not match[\s\S]*required property 'number'/,
    );
    expect(rejection(() => validateResponse("GET", url("/tickets/t_1"), 200, JSON_TYPE, { ...ticket(), version: 3 }, TICKET))).toMatch(
      /must NOT have additional properties.*"additionalProperty":"version"/,
    );
    expect(
      rejection(() => validateResponse("GET", url("/tickets/t_1"), 200, JSON_TYPE, { ...ticket(), createdAt: "yesterday" }, TICKET)),
    ).toMatch(/\/createdAt must match format "date-time"/);
  });

  it("rejects a status the operation does not declare, naming the operation", () => {
    expect(rejection(() => validateResponse("GET", url("/tickets/t_1"), 409, PROBLEM_TYPE, { ...notFound, status: 409 }, EVERY))).toMatch(
      /getTicket \(GET \/tickets\/\{id\}\) does not declare status 409/,
    );
    expect(rejection(() => validateResponse("GET", url("/openapi.json"), 503, PROBLEM_TYPE, { ...notFound, status: 503 }, EVERY))).toMatch(
      /openApi .* does not declare status 503/,
    );
  });

  it("rejects a body in a content type the status does not declare", () => {
    expect(rejection(() => validateResponse("GET", url("/tickets/t_1"), 404, JSON_TYPE, notFound, EVERY))).toMatch(
      /declares application\/problem\+json for 404, the answer is application\/json/,
    );
    expect(rejection(() => validateResponse("POST", url("/tickets"), 201, null, "", { ...TICKET, location: "/api/tickets/t_1" }))).toMatch(
      /without a content type/,
    );
  });

  it("holds a path or method no operation has to the host's own 404 in problem+json", () => {
    validateResponse("GET", url("/nothing-here"), 404, PROBLEM_TYPE, { ...notFound, detail: "No such route." }, EVERY);
    validateResponse("DELETE", url("/agents"), 404, PROBLEM_TYPE, { ...notFound, detail: "No such route." }, EVERY);
    expect(rejection(() => validateResponse("GET", url("/nothing-here"), 200, JSON_TYPE, {}, EVERY))).toMatch(
      /no operation has this path and method/,
    );
    expect(rejection(() => validateResponse("GET", url("/nothing-here"), 404, PROBLEM_TYPE, { detail: "gone" }, EVERY))).toMatch(
      /required property 'title'/,
    );
  });

  it("leaves the CORS preflight alone: the document hides it", () => {
    validateResponse("OPTIONS", url("/tickets"), 204, null, null, {});
  });

  it("holds the headers to the document: the required ones there, each a value its schema takes", () => {
    const get = (headers: Record<string, string>) => () => validateResponse("GET", url("/tickets/t_1"), 200, JSON_TYPE, ticket(), headers);
    const { etag: _, ...withoutEtag } = TICKET;
    expect(rejection(get(withoutEtag))).toMatch(
      /getTicket \(GET \/tickets\/\{id\}\) 200 declares the header ETag required, and the answer has none/,
    );
    const { "x-request-id": _id, ...withoutId } = TICKET;
    expect(rejection(get(withoutId))).toMatch(/declares the header x-request-id required/);
    expect(rejection(get({ ...TICKET, etag: "3" }))).toMatch(/200 header ETag: the value does not match[\s\S]*pattern/);
    expect(rejection(get({ ...TICKET, ratelimit: "600" }))).toMatch(/header RateLimit: the value does not match/);
    // A 401 comes before the bucket: no RateLimit fields, and the challenge.
    const unauthenticated = { ...notFound, status: 401, title: "Unauthenticated" };
    validateResponse("GET", url("/tickets"), 401, PROBLEM_TYPE, unauthenticated, {
      "x-request-id": "r-1",
      "www-authenticate": 'Bearer realm="helpdesk"',
    });
    expect(
      rejection(() => validateResponse("GET", url("/tickets"), 401, PROBLEM_TYPE, unauthenticated, { "x-request-id": "r-1" })),
    ).toMatch(/401 declares the header WWW-Authenticate required/);
    // Retry-After is a number of seconds.
    const limited = { ...notFound, status: 429, title: "Too many requests" };
    validateResponse("GET", url("/tickets"), 429, PROBLEM_TYPE, limited, { ...EVERY, "retry-after": "3" });
    expect(
      rejection(() => validateResponse("GET", url("/tickets"), 429, PROBLEM_TYPE, limited, { ...EVERY, "retry-after": "soon" })),
    ).toMatch(/header Retry-After: the value does not match/);
  });

  it("rejects an answer with a significant header its operation does not declare for the status", () => {
    expect(
      rejection(() => validateResponse("GET", url("/tickets/t_1"), 200, JSON_TYPE, ticket(), { ...TICKET, location: "/api/x" })),
    ).toMatch(/the answer has the header location, which getTicket \(GET \/tickets\/\{id\}\) 200 does not declare/);
    expect(
      rejection(() =>
        validateResponse("GET", url("/tickets/t_1"), 404, PROBLEM_TYPE, notFound, { ...EVERY, "idempotent-replayed": "true" }),
      ),
    ).toMatch(/header idempotent-replayed, which getTicket .* 404 does not declare/);
    expect(rejection(() => validateResponse("GET", url("/agents"), 200, JSON_TYPE, { items: [] }, { ...EVERY, etag: '"1"' }))).toMatch(
      /header etag, which listAgents .* 200 does not declare/,
    );
    // What is not the API's own (CORS, caching) is not the document's business.
    validateResponse("GET", url("/agents"), 200, JSON_TYPE, { items: [] }, { ...EVERY, vary: "Origin", "cache-control": "no-store" });
  });

  it("accepts a 304 without a body, with the ETag it must carry", () => {
    validateResponse("GET", url("/tickets/t_1"), 304, null, null, TICKET);
    validateResponse("GET", url("/tickets/t_1/timeline"), 304, null, null, TICKET);
    expect(rejection(() => validateResponse("GET", url("/tickets/t_1"), 304, null, null, EVERY))).toMatch(
      /304 declares the header ETag required/,
    );
    expect(rejection(() => validateResponse("GET", url("/agents"), 304, null, null, TICKET))).toMatch(
      /listAgents .* does not declare status 304/,
    );
  });

  it("holds each timeline entry to its own type's data", () => {
    const page = (data: unknown, type = "comment") => ({
      items: [{ id: "e1", type, at: "2024-05-01T09:00:00.000Z", actor: { name: "Jane Doe", role: "agent" }, visibility: "public", data }],
      nextCursor: null,
    });
    const timeline = (body: unknown) => () => validateResponse("GET", url("/tickets/t_1/timeline"), 200, JSON_TYPE, body, TICKET);
    timeline(page({ body: "on it" }))();
    timeline(page({ from: "open", to: "in_progress", reason: "started" }, "status_changed"))();
    expect(rejection(timeline(page({ from: "open", to: "in_progress" })))).toMatch(/ticketTimeline .* the body does not match/);
    expect(rejection(timeline(page({ body: "on it" }, "status_changed")))).toMatch(/the body does not match/);
    expect(rejection(timeline(page({ body: "on it" }, "reopened")))).toMatch(/the body does not match/);
  });
});
