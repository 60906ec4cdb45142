import { randomUUID } from "node:crypto";
import { request, type IncomingHttpHeaders } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { checkedFetch } from "../support/contract.js";
import { signDevToken } from "../../shared/local/dev-issuer.js";
import { startTestHost, type CallOptions, type CallResult, type TestHost } from "../support/local-host.js";

/**
 * Every status code of DESIGN.md section 3, provoked over real HTTP as a client
 * written from that section alone would: exact status, headers and problem+json.
 */

let t: TestHost;
beforeAll(async () => {
  t = await startTestHost();
});
afterAll(() => t.close());

/** The responses the running test received: after each test, every one must carry an x-request-id. */
const seen: { what: string; status: number; requestId: string | null }[] = [];
afterEach(() => {
  const received = seen.splice(0);
  expect(received.filter((s) => !s.requestId)).toEqual([]);
});

async function call(token: string | null, method: string, path: string, options?: CallOptions): Promise<CallResult> {
  const res = await t.call(token, method, path, options);
  seen.push({ what: `${method} ${path}`, status: res.status, requestId: res.headers.get("x-request-id") });
  return res;
}

const uniq = () => randomUUID().slice(0, 8);
const requester = (label = "req") => t.token({ name: `Requester ${label}`, email: `${label}-${uniq()}@example.com` });
const agent = (label = "agent") => t.token({ name: `Agent ${label}`, email: `${label}-${uniq()}@example.com`, role: "agent" });

const ticketBody = (subject = `Printer ${uniq()}`) => ({ subject, description: "It jams on every page." });

async function open(token: string, body: Record<string, unknown> = ticketBody()) {
  const res = await call(token, "POST", "/tickets", { body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res;
}

/** How many tickets this requester sees in their queue. */
async function myTicketCount(token: string): Promise<number> {
  const res = await call(token, "GET", "/tickets?requester=me&limit=100");
  expect(res.status).toBe(200);
  return res.body.items.length;
}

async function timeline(token: string, id: string) {
  const res = await call(token, "GET", `/tickets/${id}/timeline?limit=100`);
  expect(res.status).toBe(200);
  return res.body.items as { id: string; type: string; visibility: string; data: Record<string, unknown> }[];
}

function expectProblem(res: CallResult, status: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/problem\+json\b/);
  expect(res.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) });
  expect(res.body.type.length).toBeGreaterThan(0);
  expect(res.body.title.length).toBeGreaterThan(0);
  expect(res.body.detail.length).toBeGreaterThan(0);
  expect(res.headers.get("x-request-id")).toBeTruthy();
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe("201 and 200", () => {
  it("POST /tickets answers 201 with Location, ETag and the ticket", async () => {
    const token = await requester("karen");
    const res = await open(token, { subject: "VPN drops", description: "Every ten minutes.", priority: "high", category: "network" });
    const ticket = res.body;
    expect(ticket).toMatchObject({
      subject: "VPN drops",
      description: "Every ten minutes.",
      status: "open",
      priority: "high",
      severity: null,
      category: "network",
      requester: { id: expect.any(String), name: "Requester karen", email: expect.stringMatching(/^karen-.*@example\.com$/) },
      assignee: null,
      resolution: null,
      resolvedAt: null,
      closedAt: null,
    });
    expect(ticket.id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(typeof ticket.number).toBe("string");
    expect(ticket.number.length).toBeGreaterThan(0);
    expect(ticket.createdAt).toMatch(ISO_UTC);
    expect(ticket.updatedAt).toMatch(ISO_UTC);
    expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json\b/);

    const location = res.headers.get("location");
    expect(location).toBeTruthy();
    expect(new URL(location!, t.url).pathname).toBe(`/api/tickets/${ticket.id}`);
    const etag = res.headers.get("etag");
    expect(etag).toBeTruthy();

    // The Location is the ticket: following it gives the same ticket.
    const followed = await checkedFetch(new URL(location!, t.url), { headers: { authorization: `Bearer ${token}` } });
    expect(followed.status).toBe(200);
    expect(await followed.json()).toEqual(ticket);
  });

  it("a requester may open at low, normal or high; priority defaults to normal", async () => {
    const token = await requester();
    for (const priority of ["low", "normal", "high"]) {
      const res = await open(token, { ...ticketBody(), priority });
      expect(res.body.priority).toBe(priority);
    }
    expect((await open(token)).body.priority).toBe("normal");
  });

  it("GET /tickets/{id} answers 200 with the ticket and the same ETag as the POST", async () => {
    const token = await requester();
    const created = await open(token);
    const res = await call(token, "GET", `/tickets/${created.body.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created.body);
    expect(res.headers.get("etag")).toBe(created.headers.get("etag"));
  });

  it("GET /tickets, /agents, /health and /openapi.json answer 200", async () => {
    const a = await agent();
    expect((await call(a, "GET", "/tickets")).status).toBe(200);
    const agents = await call(a, "GET", "/agents");
    expect(agents.status).toBe(200);
    const health = await call(null, "GET", "/health");
    expect(health.status).toBe(200);
    const openapi = await call(null, "GET", "/openapi.json");
    expect(openapi.status).toBe(200);
    expect(String(openapi.body.openapi)).toMatch(/^3\.1/);
  });
});

describe("400", () => {
  it("malformed JSON is 400 problem+json, and nothing is created", async () => {
    const token = await requester();
    const res = await call(token, "POST", "/tickets", {
      rawBody: '{"subject": "Printer", "description": ',
      headers: { "content-type": "application/json" },
    });
    expectProblem(res, 400);
    expect(await myTicketCount(token)).toBe(0);
  });

  it("malformed JSON on a comment is 400", async () => {
    const token = await requester();
    const { body: ticket } = await open(token);
    const res = await call(token, "POST", `/tickets/${ticket.id}/comments`, {
      rawBody: "{body: 'x'}",
      headers: { "content-type": "application/json" },
    });
    expectProblem(res, 400);
  });

  it("invalid fields are 400 with errors [{path, message}] naming each field", async () => {
    const token = await requester();
    const res = await call(token, "POST", "/tickets", { body: { subject: "", description: 42, priority: "urgent" } });
    expectProblem(res, 400);
    expect(Array.isArray(res.body.errors)).toBe(true);
    for (const e of res.body.errors) {
      expect(e).toEqual({ path: expect.any(String), message: expect.any(String) });
      expect(e.message.length).toBeGreaterThan(0);
    }
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["subject", "description", "priority"]));
    expect(await myTicketCount(token)).toBe(0);
  });

  it("field limits: subject over 200 chars, description over 20,000, category over 64 are 400", async () => {
    const token = await requester();
    const cases: [Record<string, unknown>, string][] = [
      [{ subject: "s".repeat(201), description: "d" }, "subject"],
      [{ subject: "s", description: "d".repeat(20_001) }, "description"],
      [{ subject: "s", description: "d", category: "c".repeat(65) }, "category"],
      [{ description: "d" }, "subject"],
    ];
    for (const [body, path] of cases) {
      const res = await call(token, "POST", "/tickets", { body });
      expectProblem(res, 400);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    // The limits themselves are allowed.
    await open(token, { subject: "s".repeat(200), description: "d".repeat(20_000), category: "c".repeat(64) });
  });

  it("an unknown field is 400 with an error that names it", async () => {
    const token = await requester();
    const res = await call(token, "POST", "/tickets", { body: { ...ticketBody(), colour: "red" } });
    expectProblem(res, 400);
    expect(res.body.errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(res.body.errors)).toContain("colour");
    expect(await myTicketCount(token)).toBe(0);
  });

  it("an unknown field on PATCH (triage) is 400 and changes nothing", async () => {
    const a = await agent();
    const { body: ticket } = await open(await requester());
    const res = await call(a, "PATCH", `/tickets/${ticket.id}`, { body: { priority: "high", status: "closed" } });
    expectProblem(res, 400);
    expect(JSON.stringify(res.body.errors)).toContain("status");
    const after = await call(a, "GET", `/tickets/${ticket.id}`);
    expect(after.body.priority).toBe("normal");
    expect(after.body.status).toBe("open");
  });

  it("queue limit outside 1-100 and an unknown status filter are 400", async () => {
    const a = await agent();
    for (const query of ["limit=0", "limit=101", "status=pending"]) {
      const res = await call(a, "GET", `/tickets?${query}`);
      expectProblem(res, 400);
      expect(res.body.errors.length).toBeGreaterThan(0);
    }
    expect((await call(a, "GET", "/tickets?limit=100")).status).toBe(200);
    expect((await call(a, "GET", "/tickets?limit=1")).status).toBe(200);
  });
});

describe("401", () => {
  const expect401 = (res: CallResult) => {
    expectProblem(res, 401);
    expect(res.headers.get("www-authenticate") ?? "").toMatch(/^Bearer\b/);
  };

  it("a missing token is 401 with WWW-Authenticate: Bearer, on reads and writes", async () => {
    expect401(await call(null, "GET", "/tickets"));
    expect401(await call(null, "GET", "/tickets/some-id"));
    expect401(await call(null, "POST", "/tickets", { body: ticketBody() }));
    expect401(await call(null, "GET", "/agents"));
  });

  it("a garbage token is 401 with WWW-Authenticate: Bearer", async () => {
    expect401(await call("not-a-jwt", "GET", "/tickets"));
    expect401(await call(null, "GET", "/tickets", { headers: { authorization: "Basic dXNlcjpwYXNz" } }));
  });

  it("a token signed by another key, an expired token and a tampered token are 401", async () => {
    const dir = await mkdtemp(join(tmpdir(), "foreign-issuer-"));
    try {
      const foreign = await signDevToken(dir, { name: "Mallory", email: "mallory@example.com", role: "admin" });
      expect401(await call(foreign, "GET", "/tickets"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const expired = await t.token({ name: "Old", email: "old@example.com", lifetimeSeconds: -3600 });
    expect401(await call(expired, "GET", "/tickets"));

    const genuine = await requester("tamper");
    const [h, p, s] = genuine.split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString("utf8"));
    const forged = Buffer.from(JSON.stringify({ ...claims, roles: ["Tickets.Admin"] })).toString("base64url");
    const tampered = `${h}.${forged}.${s}`;
    expect401(await call(tampered, "GET", "/agents"));
    // The untampered token works: the 401 is about the forgery.
    expect((await call(genuine, "GET", "/tickets")).status).toBe(200);
  });
});

describe("401 says one thing", () => {
  it("whatever check a token failed, the answer is the same; the reason goes to the server log", async () => {
    const logged = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      const dir = await mkdtemp(join(tmpdir(), "foreign-issuer-"));
      const foreign = await signDevToken(dir, { name: "Mallory", email: "mallory@example.com" });
      await rm(dir, { recursive: true, force: true });
      const expired = await t.token({ name: "Old", email: "old@example.com", lifetimeSeconds: -3600 });
      const answers = [];
      for (const [label, headers] of [
        ["none", {}],
        ["basic", { authorization: "Basic dXNlcjpwYXNz" }],
        ["garbage", { authorization: "Bearer not-a-jwt" }],
        ["foreign", { authorization: `Bearer ${foreign}` }],
        ["expired", { authorization: `Bearer ${expired}` }],
      ] as const) {
        const res = await call(null, "GET", "/tickets", { headers: { ...headers, "x-request-id": `why-401-${label}` } });
        expect(res.status).toBe(401);
        answers.push({ body: { ...res.body }, authenticate: res.headers.get("www-authenticate") });
      }
      expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
      expect(JSON.stringify(answers[0])).not.toMatch(/ERR_|expired|signature|JWKS/i);
      const lines = logged.mock.calls.map((c) => c.join(" "));
      expect(lines.find((l) => l.startsWith("[why-401-expired] unauthenticated:"))).toMatch(/ERR_JWT_EXPIRED/);
      expect(lines.find((l) => l.startsWith("[why-401-foreign] unauthenticated:"))).toMatch(
        /ERR_JWKS_NO_MATCHING_KEY|ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
      );
    } finally {
      logged.mockRestore();
    }
  });
});

describe("403", () => {
  it("a requester setting emergency, a severity or a requester on open is 403, and nothing is created", async () => {
    const token = await requester();
    const bodies = [
      { ...ticketBody(), priority: "emergency" },
      { ...ticketBody(), severity: "SEV-B" },
      { ...ticketBody(), severity: "SEV-A" },
      { ...ticketBody(), requester: { name: "Ken Ken", email: "ken.ken@example.com" } },
    ];
    for (const body of bodies) expectProblem(await call(token, "POST", "/tickets", { body }), 403);
    expect(await myTicketCount(token)).toBe(0);
    // The same bodies are allowed to an agent.
    const a = await agent();
    for (const body of bodies) expect((await call(a, "POST", "/tickets", { body })).status).toBe(201);
  });

  it("a requester triaging their own ticket is 403 and the ticket is unchanged", async () => {
    const token = await requester();
    const { body: ticket } = await open(token);
    expectProblem(await call(token, "PATCH", `/tickets/${ticket.id}`, { body: { priority: "high" } }), 403);
    expectProblem(await call(token, "PATCH", `/tickets/${ticket.id}`, { body: { subject: "Renamed" } }), 403);
    const after = await call(token, "GET", `/tickets/${ticket.id}`);
    expect(after.body).toMatchObject({ priority: "normal", subject: ticket.subject });
  });

  it("a requester assigning or unassigning their own ticket is 403", async () => {
    const token = await requester();
    const { body: ticket } = await open(token);
    expectProblem(await call(token, "PUT", `/tickets/${ticket.id}/assignee`, { body: { agentId: ticket.requester.id } }), 403);
    expectProblem(await call(token, "DELETE", `/tickets/${ticket.id}/assignee`), 403);
  });

  it("a requester writing an internal note on their own ticket is 403 and nothing is added", async () => {
    const token = await requester();
    const { body: ticket } = await open(token);
    const before = (await timeline(token, ticket.id)).length;
    const res = await call(token, "POST", `/tickets/${ticket.id}/comments`, { body: { body: "psst", visibility: "internal" } });
    expectProblem(res, 403);
    expect((await timeline(token, ticket.id)).length).toBe(before);
    const a = await agent();
    expect((await timeline(a, ticket.id)).some((e) => e.data.body === "psst")).toBe(false);
  });

  it("a requester listing agents is 403", async () => {
    expectProblem(await call(await requester(), "GET", "/agents"), 403);
  });
});

describe("404", () => {
  it("an absent id is 404 on every ticket route", async () => {
    const a = await agent();
    // Ids no ticket can have, some of which the store would refuse as document ids (#, \, very long).
    for (const id of ["does-not-exist", "0123456789abcdef01234567", "abc%23def", "abc%5Cdef", "abc%3Fx", "a".repeat(3000)]) {
      expectProblem(await call(a, "GET", `/tickets/${id}`), 404);
      expectProblem(await call(a, "PATCH", `/tickets/${id}`, { body: { priority: "high" } }), 404);
      expectProblem(await call(a, "POST", `/tickets/${id}/comments`, { body: { body: "hello", visibility: "public" } }), 404);
      expectProblem(await call(a, "POST", `/tickets/${id}/status`, { body: { status: "in_progress" } }), 404);
      expectProblem(await call(a, "GET", `/tickets/${id}/timeline`), 404);
      expectProblem(await call(a, "DELETE", `/tickets/${id}/assignee`), 404);
    }
  });

  it("another requester's ticket is 404, the same answer as an absent id", async () => {
    const karen = await requester("karen");
    const ken = await requester("ken");
    const { body: ticket } = await open(karen);
    const theirs = await call(ken, "GET", `/tickets/${ticket.id}`);
    expectProblem(theirs, 404);
    const absent = await call(ken, "GET", "/tickets/0123456789abcdef01234567");
    expect({ ...theirs.body }).toEqual({ ...absent.body });
    expect(JSON.stringify(theirs.body)).not.toContain(ticket.subject);
  });
});

describe("409", () => {
  it("open -> open is 409 and the ticket is unchanged", async () => {
    const a = await agent();
    const { body: ticket } = await open(await requester());
    expectProblem(await call(a, "POST", `/tickets/${ticket.id}/status`, { body: { status: "open" } }), 409);
    const after = await call(a, "GET", `/tickets/${ticket.id}`);
    expect(after.body.status).toBe("open");
    expect(after.body.updatedAt).toBe(ticket.updatedAt);
  });

  it("closed -> resolved is 409 and the ticket stays closed", async () => {
    const a = await agent();
    const { body: ticket } = await open(await requester());
    const closed = await call(a, "POST", `/tickets/${ticket.id}/status`, { body: { status: "closed", resolution: "Duplicate" } });
    expect(closed.status).toBe(200);
    expectProblem(await call(a, "POST", `/tickets/${ticket.id}/status`, { body: { status: "resolved", resolution: "Fixed" } }), 409);
    expect((await call(a, "GET", `/tickets/${ticket.id}`)).body.status).toBe("closed");
  });

  it("a comment on a closed ticket is 409 for the owner and for an agent, and nothing is added", async () => {
    const owner = await requester();
    const a = await agent();
    const { body: ticket } = await open(owner);
    expect((await call(owner, "POST", `/tickets/${ticket.id}/status`, { body: { status: "closed", resolution: "Sorted" } })).status).toBe(
      200,
    );
    const before = (await timeline(a, ticket.id)).length;
    expectProblem(
      await call(owner, "POST", `/tickets/${ticket.id}/comments`, { body: { body: "one more thing", visibility: "public" } }),
      409,
    );
    expectProblem(await call(a, "POST", `/tickets/${ticket.id}/comments`, { body: { body: "note", visibility: "internal" } }), 409);
    expect((await timeline(a, ticket.id)).length).toBe(before);
    expect((await call(a, "GET", `/tickets/${ticket.id}`)).body.status).toBe("closed");
  });
});

describe("412", () => {
  it("PATCH with a non-matching If-Match is 412 and changes nothing; the current ETag works", async () => {
    const a = await agent();
    const created = await open(await requester());
    const id = created.body.id;
    // Each caller's ETag is of the representation they receive: the agent reads theirs.
    const firstEtag = (await call(a, "GET", `/tickets/${id}`)).headers.get("etag")!;

    expectProblem(await call(a, "PATCH", `/tickets/${id}`, { body: { priority: "high" }, headers: { "if-match": '"not-the-etag"' } }), 412);
    expect((await call(a, "GET", `/tickets/${id}`)).body.priority).toBe("normal");

    const ok = await call(a, "PATCH", `/tickets/${id}`, { body: { priority: "high" }, headers: { "if-match": firstEtag } });
    expect(ok.status).toBe(200);
    expect(ok.body.priority).toBe("high");
    const secondEtag = ok.headers.get("etag");
    expect(secondEtag).toBeTruthy();
    expect(secondEtag).not.toBe(firstEtag);

    // The first ETag is now stale.
    expectProblem(await call(a, "PATCH", `/tickets/${id}`, { body: { priority: "low" }, headers: { "if-match": firstEtag } }), 412);
    const after = await call(a, "GET", `/tickets/${id}`);
    expect(after.body.priority).toBe("high");
    expect(after.headers.get("etag")).toBe(secondEtag);
  });

  it("a status move with a stale If-Match is 412 and the status is unchanged", async () => {
    const a = await agent();
    const created = await open(await requester());
    const id = created.body.id;
    const stale = created.headers.get("etag")!;
    expect((await call(a, "PATCH", `/tickets/${id}`, { body: { category: "hardware" } })).status).toBe(200);
    expectProblem(await call(a, "POST", `/tickets/${id}/status`, { body: { status: "in_progress" }, headers: { "if-match": stale } }), 412);
    const current = await call(a, "GET", `/tickets/${id}`);
    expect(current.body.status).toBe("open");
    const moved = await call(a, "POST", `/tickets/${id}/status`, {
      body: { status: "in_progress" },
      headers: { "if-match": current.headers.get("etag")! },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.status).toBe("in_progress");
  });

  it("a comment and an assignment with a stale If-Match are 412 (every write honours If-Match)", async () => {
    const a = await agent();
    const created = await open(await requester());
    const id = created.body.id;
    const stale = created.headers.get("etag")!;
    expect((await call(a, "PATCH", `/tickets/${id}`, { body: { category: "hardware" } })).status).toBe(200);
    const agentsRes = await call(a, "GET", "/agents");
    const items = Array.isArray(agentsRes.body) ? agentsRes.body : agentsRes.body.items;
    const someAgent = items[0];
    const before = (await timeline(a, id)).length;
    expectProblem(
      await call(a, "POST", `/tickets/${id}/comments`, { body: { body: "late", visibility: "internal" }, headers: { "if-match": stale } }),
      412,
    );
    expectProblem(
      await call(a, "PUT", `/tickets/${id}/assignee`, { body: { agentId: someAgent.id }, headers: { "if-match": stale } }),
      412,
    );
    expect((await timeline(a, id)).length).toBe(before);
    expect((await call(a, "GET", `/tickets/${id}`)).body.assignee).toBeNull();
  });
});

/** One request over a raw socket, for what fetch will not send (a chunked body we cut up, oversized headers). */
function rawRequest(
  path: string,
  headers: Record<string, string>,
  chunks: string[] = [],
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(`${t.url}${path}`), { method: chunks.length ? "POST" : "GET", headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe("413 on a large upload", () => {
  it("uploads of megabytes over the limit read their 413 and a closed connection", async () => {
    const token = await requester();
    const chunks = Array.from({ length: 32 }, () => "x".repeat(64 * 1024)); // 2 MiB, chunked
    const results = await Promise.all(
      Array.from({ length: 3 }, () =>
        rawRequest(
          "/tickets",
          { authorization: `Bearer ${token}`, "content-type": "application/json", "transfer-encoding": "chunked" },
          chunks,
        ),
      ),
    );
    for (const res of results) {
      expect(res.status).toBe(413);
      expect(res.headers.connection).toBe("close");
    }
  });
});

describe("431", () => {
  it("headers over the limit get a problem+json 431 with a request id, not a bare status line", async () => {
    const res = await rawRequest("/health", { "x-padding": "p".repeat(20 * 1024) });
    expect(res.status).toBe(431);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.headers["x-request-id"]).toMatch(/.+/);
    expect(JSON.parse(res.body)).toMatchObject({ status: 431, title: "Request header fields too large" });
  });
});

describe("413", () => {
  it("a chunked body over 64 KiB is 413, even when its first 64 KiB are a valid body; the connection closes cleanly", async () => {
    const token = await requester();
    const valid = JSON.stringify(ticketBody("Padded"));
    // A complete ticket, then whitespace past the limit, sent in chunks with no Content-Length.
    const chunks = [valid, ...Array.from({ length: 8 }, () => " ".repeat(16 * 1024))];
    const res = await rawRequest(
      "/tickets",
      {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "transfer-encoding": "chunked",
        "x-request-id": "chunked-413",
      },
      chunks,
    );
    expect(res.status).toBe(413);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.headers["x-request-id"]).toBe("chunked-413");
    expect(res.headers.connection).toBe("close");
    expect(JSON.parse(res.body)).toMatchObject({ status: 413 });
    expect(await myTicketCount(token)).toBe(0);
  });

  it("a body over 64 KiB is 413 and nothing is created", async () => {
    const token = await requester();
    const body = JSON.stringify({ subject: "Big", description: "x".repeat(64 * 1024) });
    expect(Buffer.byteLength(body)).toBeGreaterThan(64 * 1024);
    const res = await call(token, "POST", "/tickets", { rawBody: body, headers: { "content-type": "application/json" } });
    expectProblem(res, 413);
    expect(await myTicketCount(token)).toBe(0);
  });

  it("a body of exactly 64 KiB is not 413 (it is judged on its fields)", async () => {
    const token = await requester();
    const shell = JSON.stringify({ subject: "Big", description: "" });
    const body = JSON.stringify({ subject: "Big", description: "x".repeat(64 * 1024 - Buffer.byteLength(shell)) });
    expect(Buffer.byteLength(body)).toBe(64 * 1024);
    const res = await call(token, "POST", "/tickets", { rawBody: body, headers: { "content-type": "application/json" } });
    expectProblem(res, 400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain("description");
  });

  it("a comment over 64 KiB is 413", async () => {
    const token = await requester();
    const { body: ticket } = await open(token);
    const res = await call(token, "POST", `/tickets/${ticket.id}/comments`, { body: { body: "y".repeat(70_000), visibility: "public" } });
    expectProblem(res, 413);
  });
});

describe("415", () => {
  it("a text/plain body is 415 and nothing is created", async () => {
    const token = await requester();
    const res = await call(token, "POST", "/tickets", { rawBody: JSON.stringify(ticketBody()), headers: { "content-type": "text/plain" } });
    expectProblem(res, 415);
    expect(await myTicketCount(token)).toBe(0);
  });

  it("a text/plain comment and a form-encoded status move are 415", async () => {
    const token = await requester();
    const { body: ticket } = await open(token);
    expectProblem(
      await call(token, "POST", `/tickets/${ticket.id}/comments`, {
        rawBody: JSON.stringify({ body: "hi" }),
        headers: { "content-type": "text/plain; charset=utf-8" },
      }),
      415,
    );
    expectProblem(
      await call(token, "POST", `/tickets/${ticket.id}/status`, {
        rawBody: "status=closed&resolution=done",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
      415,
    );
    expect((await call(token, "GET", `/tickets/${ticket.id}`)).body.status).toBe("open");
  });
});

describe("Idempotency-Key and 422", () => {
  it("POST /tickets retried with the same key and body replays the first response and creates nothing", async () => {
    const token = await requester();
    const key = `open-${uniq()}`;
    const body = ticketBody();
    const first = await call(token, "POST", "/tickets", { body, headers: { "idempotency-key": key } });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).not.toBe("true");
    const second = await call(token, "POST", "/tickets", { body, headers: { "idempotency-key": key } });
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.body).toEqual(first.body);
    expect(second.headers.get("location")).toBe(first.headers.get("location"));
    expect(await myTicketCount(token)).toBe(1);
  });

  it("replay of POST /tickets is the first response again, ETag header included (DESIGN §3 Idempotency + single-ticket ETag)", async () => {
    const token = await requester();
    const key = `open-etag-${uniq()}`;
    const body = ticketBody();
    const first = await call(token, "POST", "/tickets", { body, headers: { "idempotency-key": key } });
    expect(first.status).toBe(201);
    const second = await call(token, "POST", "/tickets", { body, headers: { "idempotency-key": key } });
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
  });

  it("POST /tickets with a reused key and a different body is 422 and creates nothing", async () => {
    const token = await requester();
    const key = `open-${uniq()}`;
    expect((await call(token, "POST", "/tickets", { body: ticketBody("First"), headers: { "idempotency-key": key } })).status).toBe(201);
    const res = await call(token, "POST", "/tickets", { body: ticketBody("Second"), headers: { "idempotency-key": key } });
    expectProblem(res, 422);
    const list = await call(token, "GET", "/tickets?requester=me");
    expect(list.body.items.map((x: { subject: string }) => x.subject)).toEqual(["First"]);
  });

  it("keys are per caller: another user's same key and body opens their own ticket", async () => {
    const karen = await requester("karen");
    const ken = await requester("ken");
    const key = `shared-${uniq()}`;
    const body = ticketBody("Same words");
    const a = await call(karen, "POST", "/tickets", { body, headers: { "idempotency-key": key } });
    const b = await call(ken, "POST", "/tickets", { body, headers: { "idempotency-key": key } });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers.get("idempotent-replayed")).not.toBe("true");
    expect(b.body.id).not.toBe(a.body.id);
    expect(b.body.requester.id).not.toBe(a.body.requester.id);
    expect(await myTicketCount(karen)).toBe(1);
    expect(await myTicketCount(ken)).toBe(1);
  });

  it("a comment retried with the same key and body replays the first response and adds nothing", async () => {
    const token = await requester();
    const a = await agent();
    const { body: ticket } = await open(token);
    const key = `comment-${uniq()}`;
    const body = { body: "Still broken", visibility: "public" };
    const first = await call(token, "POST", `/tickets/${ticket.id}/comments`, { body, headers: { "idempotency-key": key } });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).not.toBe("true");
    const second = await call(token, "POST", `/tickets/${ticket.id}/comments`, { body, headers: { "idempotency-key": key } });
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.body).toEqual(first.body);
    const comments = (await timeline(a, ticket.id)).filter((e) => e.type === "comment");
    expect(comments.map((c) => c.data.body)).toEqual(["Still broken"]);
  });

  it("replay of a comment is the first response again, ETag header included (DESIGN §3 Idempotency)", async () => {
    const token = await requester();
    const { body: ticket } = await open(token);
    const key = `comment-etag-${uniq()}`;
    const body = { body: "Hello again", visibility: "public" };
    const first = await call(token, "POST", `/tickets/${ticket.id}/comments`, { body, headers: { "idempotency-key": key } });
    expect(first.status).toBe(201);
    expect(first.headers.get("etag")).toBeTruthy();
    const second = await call(token, "POST", `/tickets/${ticket.id}/comments`, { body, headers: { "idempotency-key": key } });
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.headers.get("location")).toBe(first.headers.get("location"));
    expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
  });

  it("a comment with a reused key and a different body is 422 and adds nothing", async () => {
    const token = await requester();
    const { body: ticket } = await open(token);
    const key = `comment-${uniq()}`;
    const first = await call(token, "POST", `/tickets/${ticket.id}/comments`, {
      body: { body: "First", visibility: "public" },
      headers: { "idempotency-key": key },
    });
    expect(first.status).toBe(201);
    const res = await call(token, "POST", `/tickets/${ticket.id}/comments`, {
      body: { body: "Second", visibility: "public" },
      headers: { "idempotency-key": key },
    });
    expectProblem(res, 422);
    const comments = (await timeline(token, ticket.id)).filter((e) => e.type === "comment");
    expect(comments.map((c) => c.data.body)).toEqual(["First"]);
  });

  // A comment's key is scoped to the caller and the ticket (README, Idempotency): the
  // ticket's own compare-and-swap claims it, so a comment stays one round trip.
  it("a comment's Idempotency-Key is scoped to its ticket: the same key on another ticket is another request there", async () => {
    const token = await requester();
    const { body: one } = await open(token);
    const { body: two } = await open(token);
    const key = `comment-${uniq()}`;
    const body = { body: "Any news?", visibility: "public" };
    expect((await call(token, "POST", `/tickets/${one.id}/comments`, { body, headers: { "idempotency-key": key } })).status).toBe(201);
    const first = await call(token, "POST", `/tickets/${two.id}/comments`, { body, headers: { "idempotency-key": key } });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const retry = await call(token, "POST", `/tickets/${two.id}/comments`, { body, headers: { "idempotency-key": key } });
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body).toEqual(first.body);
    expect((await timeline(token, two.id)).filter((e) => e.type === "comment")).toHaveLength(1);
    expect((await timeline(token, one.id)).filter((e) => e.type === "comment")).toHaveLength(1);
  });

  it("two concurrent identical POST /tickets with one key create exactly one ticket (201 + replay, or 201 + 409)", async () => {
    const token = await requester();
    const key = `race-${uniq()}`;
    const body = ticketBody();
    const [x, y] = await Promise.all([
      call(token, "POST", "/tickets", { body, headers: { "idempotency-key": key } }),
      call(token, "POST", "/tickets", { body, headers: { "idempotency-key": key } }),
    ]);
    const statuses = [x.status, y.status].sort();
    if (statuses[1] === 409) {
      expect(statuses).toEqual([201, 409]);
      expectProblem(x.status === 409 ? x : y, 409);
    } else {
      expect(statuses).toEqual([201, 201]);
      expect([x, y].filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(1);
      expect(x.body.id).toBe(y.body.id);
    }
    expect(await myTicketCount(token)).toBe(1);
  });
});

describe("x-request-id", () => {
  it("is echoed when sent, on successes and on every kind of error", async () => {
    const token = await requester();
    const a = await agent();
    const { body: ticket } = await open(token);
    const cases: [string | null, string, string, CallOptions, number][] = [
      [token, "POST", "/tickets", { body: ticketBody() }, 201],
      [token, "GET", `/tickets/${ticket.id}`, {}, 200],
      [token, "POST", "/tickets", { rawBody: "{", headers: { "content-type": "application/json" } }, 400],
      [null, "GET", "/tickets", {}, 401],
      [token, "GET", "/agents", {}, 403],
      [a, "GET", "/tickets/nope", {}, 404],
      [a, "POST", `/tickets/${ticket.id}/status`, { body: { status: "open" } }, 409],
      [a, "PATCH", `/tickets/${ticket.id}`, { body: { priority: "low" }, headers: { "if-match": '"stale"' } }, 412],
      [token, "POST", "/tickets", { body: { subject: "x", description: "y".repeat(70_000) } }, 413],
      [token, "POST", "/tickets", { rawBody: "{}", headers: { "content-type": "text/plain" } }, 415],
      [null, "GET", "/health", {}, 200],
    ];
    for (const [who, method, path, options, status] of cases) {
      const id = `e2e-${uniq()}`;
      const res = await call(who, method, path, { ...options, headers: { ...options.headers, "x-request-id": id } });
      expect(res.status, `${method} ${path}`).toBe(status);
      expect(res.headers.get("x-request-id"), `${method} ${path}`).toBe(id);
    }
  });

  it("is generated when not sent, different for each request", async () => {
    const one = await call(null, "GET", "/health");
    const two = await call(null, "GET", "/health");
    expect(one.headers.get("x-request-id")).toBeTruthy();
    expect(two.headers.get("x-request-id")).toBeTruthy();
    expect(one.headers.get("x-request-id")).not.toBe(two.headers.get("x-request-id"));
  });

  it("is on every response, including an unknown route or method under /api (DESIGN §3 Errors: every response carries x-request-id)", async () => {
    const token = await requester();
    const unknown = await call(token, "GET", "/no-such-route", { headers: { "x-request-id": "e2e-unknown-route" } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-request-id")).toBe("e2e-unknown-route");
    // A method no function of the route has: 404, as the Functions host answers.
    const wrongMethod = await call(token, "DELETE", "/tickets", { headers: { "x-request-id": "e2e-wrong-method" } });
    expectProblem(wrongMethod, 404);
    expect(wrongMethod.headers.get("x-request-id")).toBe("e2e-wrong-method");
  });

  it("is on every response of every ticket route when not sent, success or failure (and each test checks its own after it)", async () => {
    const owner = await requester();
    const a = await agent();
    const { body: ticket } = await open(owner);
    const agents = await call(a, "GET", "/agents");
    const agentId = (Array.isArray(agents.body) ? agents.body : agents.body.items)[0].id;
    const cases: [string | null, string, string, CallOptions, number][] = [
      [owner, "GET", "/tickets", {}, 200],
      [null, "GET", "/tickets", {}, 401],
      [owner, "POST", "/tickets", { body: ticketBody() }, 201],
      [owner, "POST", "/tickets", { body: { subject: "" } }, 400],
      [owner, "GET", `/tickets/${ticket.id}`, {}, 200],
      [a, "GET", "/tickets/nope", {}, 404],
      [a, "PATCH", `/tickets/${ticket.id}`, { body: { category: "printers" } }, 200],
      [owner, "PATCH", `/tickets/${ticket.id}`, { body: { priority: "high" } }, 403],
      [a, "PUT", `/tickets/${ticket.id}/assignee`, { body: { agentId } }, 200],
      [a, "PUT", `/tickets/${ticket.id}/assignee`, { body: { agentId }, headers: { "if-match": '"stale"' } }, 412],
      [a, "DELETE", `/tickets/${ticket.id}/assignee`, {}, 200],
      [owner, "DELETE", `/tickets/${ticket.id}/assignee`, {}, 403],
      [owner, "POST", `/tickets/${ticket.id}/comments`, { body: { body: "Any news?", visibility: "public" } }, 201],
      [owner, "POST", `/tickets/${ticket.id}/comments`, { rawBody: "{}", headers: { "content-type": "text/plain" } }, 415],
      [a, "POST", `/tickets/${ticket.id}/status`, { body: { status: "in_progress" } }, 200],
      [a, "POST", `/tickets/${ticket.id}/status`, { body: { status: "in_progress" } }, 409],
      [owner, "GET", `/tickets/${ticket.id}/timeline`, {}, 200],
      [a, "GET", "/tickets/nope/timeline", {}, 404],
      [a, "GET", "/agents", {}, 200],
      [owner, "GET", "/agents", {}, 403],
    ];
    for (const [who, method, path, options, status] of cases) {
      const res = await call(who, method, path, options);
      expect(res.status, `${method} ${path}`).toBe(status);
      expect(res.headers.get("x-request-id"), `${method} ${path}`).toMatch(/\S/);
    }
  });
});
