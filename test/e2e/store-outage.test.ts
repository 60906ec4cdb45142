import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapCosmos, connectCosmos } from "../../shared/adapters/cosmos/connect.js";
import { startEmbeddedCosmos, type EmbeddedCosmos } from "../../shared/local/embedded-cosmos.js";
import { HEALTH_PROBE_CACHE_MS } from "../../shared/adapters/http/health.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";
import { ManualScheduler } from "../support/manual-scheduler.js";

/** The store stops answering: clients get 503 problem+json with Retry-After, never a 500 or a half-applied change. */
let cosmos: EmbeddedCosmos; // stopped and restarted by the outage test
let behindProxy: EmbeddedCosmos; // its own, so the two tests never share a store
let t: TestHost; // talks to Cosmos DB directly
let viaProxy: TestHost; // talks to Cosmos DB through the throttling proxy
let port: number;
let throttling = false;
let throttled = 0;
let proxy: Server;
const clock = new ManualScheduler();
/** Past the time one health probe answers for. */
const nextProbe = () => clock.advance(HEALTH_PROBE_CACHE_MS);

/** Stands between the host and Cosmos DB; while `throttling`, answers 429 as an overloaded account does. */
function throttlingProxy(target: URL): Server {
  return createServer((req, res) => {
    if (throttling) {
      throttled++;
      res.writeHead(429, { "content-type": "application/json", "x-ms-retry-after-ms": "20", "x-ms-substatus": "3200" });
      res.end(JSON.stringify({ code: "TooManyRequests", message: "Request rate is large." }));
      return;
    }
    const { hostname, port } = target;
    const upstream = request({ host: hostname, port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
}

beforeAll(async () => {
  cosmos = await startEmbeddedCosmos();
  port = Number(new URL(cosmos.endpoint).port);
  behindProxy = await startEmbeddedCosmos();
  proxy = throttlingProxy(new URL(behindProxy.endpoint));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
  const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  viaProxy = await startTestHost({ COSMOS_ENDPOINT: endpoint, COSMOS_KEY: "not-checked" });
  // Its clock moves when the test says: health answers from one store probe for a few seconds.
  t = await startTestHost({ COSMOS_ENDPOINT: cosmos.endpoint, COSMOS_KEY: "not-checked" }, { scheduler: clock });
});
afterAll(async () => {
  await t.close();
  await viaProxy.close();
  proxy.close();
  await cosmos.close();
  await behindProxy.close();
});

describe("store outage", () => {
  it("answers 503 with Retry-After while Cosmos DB is down, and recovers when it is back", async () => {
    const karen = await t.token(PEOPLE.karen);
    const opened = await t.call(karen, "POST", "/tickets", { body: { subject: "VPN", description: "down" } });
    expect(opened.status).toBe(201);
    expect((await t.call(null, "GET", "/health")).status).toBe(200);

    await cosmos.close();
    for (const [method, path, body] of [
      ["GET", `/tickets/${opened.body.id}`, undefined],
      ["POST", "/tickets", { subject: "Another", description: "one" }],
      ["GET", "/tickets", undefined],
    ] as const) {
      const res = await t.call(karen, method, path, { body });
      expect(res.status, `${method} ${path}`).toBe(503);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(res.body).toMatchObject({ status: 503, title: "Service unavailable" });
      expect(JSON.stringify(res.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    }
    // The probe made before the outage still answers for a few seconds: health costs the store one read per probe.
    expect((await t.call(null, "GET", "/health")).status).toBe(200);
    await nextProbe();
    const health = await t.call(null, "GET", "/health");
    expect(health.status).toBe(503);
    expect(health.headers.get("retry-after")).toBe("5");
    expect(health.body).toEqual({ status: "degraded", store: "unavailable" });

    // Back on the same address, but empty (the embedded endpoint keeps nothing): without its
    // container the store is not usable, and health says so.
    cosmos = await startEmbeddedCosmos(port);
    await nextProbe();
    const missing = await t.call(null, "GET", "/health");
    expect(missing.status).toBe(503);
    expect(missing.body).toEqual({ status: "degraded", store: "unavailable" });
    // Once the database and containers are back (as infra/ or a restore would make them), it recovers.
    const client = await connectCosmos({ endpoint: cosmos.endpoint, key: "not-checked" });
    await bootstrapCosmos(client, "helpdesk");
    client.dispose();
    await nextProbe();
    expect((await t.call(null, "GET", "/health")).status).toBe(200);
    expect((await t.call(karen, "POST", "/tickets", { body: { subject: "Back", description: "again" } })).status).toBe(201);
  });

  it("/api/health answers 503 when the tickets container is missing, and so does the queue, rather than an empty page", async () => {
    const bare = await startEmbeddedCosmos();
    const client = await connectCosmos({ endpoint: bare.endpoint, key: "not-checked" });
    const host = await startTestHost({ COSMOS_ENDPOINT: bare.endpoint, COSMOS_KEY: "not-checked" });
    try {
      const karen = await host.token(PEOPLE.karen);
      expect((await host.call(karen, "POST", "/tickets", { body: { subject: "VPN", description: "down" } })).status).toBe(201);
      // Someone deletes the container (or the database is restored without it).
      await client.database("helpdesk").container("tickets").delete();
      const health = await host.call(null, "GET", "/health");
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ status: "degraded", store: "unavailable" });
      const list = await host.call(karen, "GET", "/tickets");
      expect(list.status).toBe(503);
      expect(list.body).toMatchObject({ status: 503, title: "Service unavailable" });
    } finally {
      await host.close();
      client.dispose();
      await bare.close();
    }
  });

  it("answers 503 with Retry-After once the SDK's own retries of a throttled request are spent, and applies nothing", async () => {
    const jane = await viaProxy.token(PEOPLE.jane);
    const opened = await viaProxy.call(jane, "POST", "/tickets", { body: { subject: "Throttle me", description: "d" } });
    expect(opened.status).toBe(201);
    throttling = true;
    try {
      const res = await viaProxy.call(jane, "PATCH", `/tickets/${opened.body.id}`, { body: { priority: "high" } });
      expect(res.status).toBe(503);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(throttled).toBeGreaterThan(1); // the SDK retried before giving up
    } finally {
      throttling = false;
    }
    const after = await viaProxy.call(jane, "GET", `/tickets/${opened.body.id}`);
    expect(after.body.priority).toBe("normal");
    const timeline = await viaProxy.call(jane, "GET", `/tickets/${opened.body.id}/timeline`);
    expect(timeline.body.items.map((e: { type: string }) => e.type)).toEqual(["opened"]);
  });
});
