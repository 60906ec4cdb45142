import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { checkedFetch } from "../support/contract.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";
import { startLocalProcess } from "../support/local-process.js";

/** What the local host adds around the handlers: CORS, a log line per request, clean shutdown. */
let t: TestHost;
beforeAll(async () => {
  t = await startTestHost({ CORS_ALLOWED_ORIGINS: "https://app.example.com, http://localhost:5173" });
});
afterAll(() => t.close());

describe("CORS", () => {
  it("answers a preflight from an allowed origin, with the headers a browser client sends", async () => {
    const res = await checkedFetch(`${t.url}/tickets`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, idempotency-key",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    // Every request header the API reads: a browser app's conditional GET and retry keys too.
    const allowed = res.headers.get("access-control-allow-headers")?.toLowerCase().split(/,\s*/);
    expect(allowed).toEqual(
      expect.arrayContaining(["authorization", "content-type", "if-match", "if-none-match", "idempotency-key", "x-request-id"]),
    );
  });

  it("lets an allowed origin read the ETag and Location of a response", async () => {
    const karen = await t.token(PEOPLE.karen);
    const res = await t.call(karen, "POST", "/tickets", {
      body: { subject: "s", description: "d" },
      headers: { origin: "http://localhost:5173" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(res.headers.get("access-control-expose-headers")).toMatch(/ETag.*Location/);
  });

  it("says Vary: Origin on every response once origins are configured, allowed or not, so no cache mixes them", async () => {
    for (const headers of [{ origin: "http://localhost:5173" }, { origin: "https://evil.example" }, {}] as Record<string, string>[]) {
      for (const path of ["/health", "/no-such-route"]) {
        const res = await checkedFetch(`${t.url}${path}`, { headers });
        expect(res.headers.get("vary"), `${path} ${JSON.stringify(headers)}`).toBe("Origin");
      }
    }
  });

  it("gives nothing to another origin", async () => {
    const res = await checkedFetch(`${t.url}/tickets`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("access-control-allow-methods")).toBeNull();
  });
});

describe("requests the host must survive", () => {
  it("a path that is not valid percent-encoding is 404, and the host keeps serving", async () => {
    const res = await checkedFetch(`${t.url}/tickets/%E0%A4%A`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/problem\+json/);
    expect((await checkedFetch(`${t.url}/health`)).status).toBe(200);
  });

  it("a Host header that is no host does not take the host down", async () => {
    const { request } = await import("node:http");
    const port = Number(new URL(t.url).port);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/api/health", headers: { host: "a b" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect([200, 400]).toContain(status);
    expect((await checkedFetch(`${t.url}/health`)).status).toBe(200);
  });

  it("an unknown route, or a method no function of the route has, is 404 as on the Functions host", async () => {
    expect((await checkedFetch(`${t.url}/nothing-here`)).status).toBe(404);
    const res = await checkedFetch(`${t.url}/agents`, { method: "DELETE" });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/problem\+json/);
  });
});

describe("npm start's process", () => {
  it("drains on close: a request under way is answered, with Connection: close, and close waits for it", async () => {
    const host = await startTestHost();
    const token = await host.token(PEOPLE.karen);
    const body = JSON.stringify({ subject: "Sent as the host stops", description: "d" });
    const socket = connect(Number(new URL(host.url).port), "127.0.0.1");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (received += d));
    const ended = new Promise<void>((resolve) => socket.once("end", () => resolve()));
    try {
      // The headers now, the body later: `Expect: 100-continue` makes the host say when it has the request.
      socket.write(
        `POST /api/tickets HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\nexpect: 100-continue\r\n\r\n`,
      );
      await vi.waitFor(() => expect(received).toContain("100 Continue"));
      let closed = false;
      const closing = host.close().then(() => (closed = true));
      socket.write(body);
      await ended; // the host closes the socket once it has answered
      await closing;
      expect(closed).toBe(true);
      const response = received.slice(received.indexOf("\r\n\r\n") + 4);
      expect(response).toMatch(/^HTTP\/1\.1 201 /);
      expect(response.toLowerCase()).toContain("connection: close");
    } finally {
      socket.destroy();
    }
  });

  it("logs a line per request and shuts down cleanly on SIGTERM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "helpdesk-start-"));
    const host = startLocalProcess({ LOCAL_DIR: dir, LOCAL_STORE: "memory" });
    try {
      const url = await host.url();
      expect(host.output()).toMatch(/store: +embedded Cosmos DB endpoint/);
      const res = await checkedFetch(`${url}/health`, { headers: { "x-request-id": "log-me-123" } });
      expect(res.status).toBe(200);
      // One JSON object a line (request-log.ts), whatever else the host prints between them.
      const line = async (requestId: string) => {
        await host.until(new RegExp(`"requestId":"${requestId}"`));
        const found = host
          .output()
          .split("\n")
          .find((l) => l.includes(`"requestId":"${requestId}"`))!;
        return JSON.parse(found) as Record<string, unknown>;
      };
      expect(await line("log-me-123")).toEqual({
        level: 30,
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        method: "GET",
        path: "/api/health",
        status: 200,
        ms: expect.any(Number),
        requestId: "log-me-123",
      });
      // The query's names are logged, never its values: a misplaced token stays out of the log.
      await checkedFetch(`${url}/openapi.json?access_token=s3cr3t-t0ken&x=1`, { headers: { "x-request-id": "log-me-456" } });
      expect(await line("log-me-456")).toMatchObject({ path: "/api/openapi.json?access_token=…&x=…", status: 200 });
      expect(host.output()).not.toContain("s3cr3t-t0ken");
      expect(await host.stop("SIGTERM")).toBe(0);
      expect(host.output()).toContain("SIGTERM: shutting down");
    } finally {
      await host.stop("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});
