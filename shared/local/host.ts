import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { httpRoutes, type HttpRoute } from "../api.js";
import { App } from "../composition.js";
import type { Settings } from "../config/settings.js";
import { MAX_BODY_BYTES, requestIdOf, type ApiRequest, type Invocation } from "../http/endpoint.js";
import { problemBody } from "../http/problem.js";
import { OutboxPump } from "../escalation/outbox-pump.js";

/**
 * The local host: the Functions routes on http://localhost:PORT/api, served by
 * node:http with the same route table and handlers that Azure registers. It adds
 * what the platform adds in Azure: CORS and a log line per request.
 */
export interface Host {
  url: string;
  app: App;
  close(): Promise<void>;
}

interface CompiledRoute {
  pattern: RegExp;
  names: string[];
  route: HttpRoute;
}

const EXPOSED_HEADERS = "ETag, Location, Retry-After, x-request-id, Idempotent-Replayed, WWW-Authenticate";

function compile(route: HttpRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.route.replace(/[.]/g, "\\.").replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { pattern: new RegExp(`^/api/${source}/?$`), names, route };
}

/** Reads at most MAX_BODY_BYTES + 1 bytes: enough for the handler to answer 413. */
async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES + 1) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function startHost(settings: Settings, log: (line: string) => void = console.log): Promise<Host> {
  const app = new App(settings);
  // Escalations: dispatch each change's outbox entries at once (Azure: the change feed).
  const pump = new OutboxPump(() => app.dispatcher(), (line) => console.error(line));
  app.onOutbox = (entries) => pump.nudge(entries);
  const routes = httpRoutes(app).map(compile);
  const origins = new Set(settings.CORS_ALLOWED_ORIGINS);
  const context: Invocation = { error: (...args) => console.error(...args) };

  const server = createServer(async (req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const method = (req.method ?? "GET").toUpperCase();
    const origin = req.headers.origin;
    if (origin && origins.has(origin)) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "Origin");
      res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
    }
    const matches = routes
      .map((r) => ({ r, m: r.pattern.exec(url.pathname) }))
      .filter((x): x is { r: CompiledRoute; m: RegExpExecArray } => x.m !== null);
    const found = matches.find((x) => x.r.route.methods.includes(method));
    let status: number;
    // Handlers set their own; this one is for answers the host gives itself.
    let requestId = requestIdOf(headerValue(req, "x-request-id"));
    res.setHeader("x-request-id", requestId);
    if (method === "OPTIONS" && matches.length) {
      status = preflight(res, matches.map((x) => x.r.route.methods).flat(), origin !== undefined && origins.has(origin));
    } else if (!found) {
      status = matches.length ? 405 : 404;
      const body = problemBody(matches.length ? "method_not_allowed" : "not_found", matches.length ? `Use ${matches.map((x) => x.r.route.methods).flat().join(", ")}.` : "No such route.");
      if (matches.length) res.setHeader("allow", matches.map((x) => x.r.route.methods).flat().join(", "));
      res.writeHead(status, { "content-type": "application/problem+json; charset=utf-8" }).end(JSON.stringify(body));
    } else {
      const params = Object.fromEntries(found.r.names.map((n, i) => [n, decodeURIComponent(found.m[i + 1] ?? "")]));
      const body = method === "GET" || method === "HEAD" ? Promise.resolve("") : readText(req);
      const request: ApiRequest = {
        method,
        url: url.toString(),
        headers: { get: (name) => headerValue(req, name) },
        params,
        text: () => body,
      };
      const response = await found.r.route.handler(request, context);
      status = response.status;
      requestId = response.headers["x-request-id"] ?? requestId;
      res.writeHead(status, response.headers).end(response.body);
    }
    log(`${method} ${url.pathname}${url.search} ${status} ${(performance.now() - started).toFixed(1)}ms ${requestId}`);
  });
  // Keep-alive sockets must not hold a shutdown open.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.PORT, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  pump.start();
  return {
    url: `http://localhost:${port}/api`,
    app,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await pump.stop();
      await app.close();
    },
  };
}

function headerValue(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name.toLowerCase()];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(", ") : v;
}

function preflight(res: ServerResponse, methods: string[], allowed: boolean): number {
  if (allowed) {
    res.setHeader("access-control-allow-methods", [...new Set([...methods, "OPTIONS"])].join(", "));
    res.setHeader("access-control-allow-headers", "Authorization, Content-Type, If-Match, Idempotency-Key, x-request-id");
    res.setHeader("access-control-max-age", "600");
  }
  res.writeHead(204).end();
  return 204;
}
