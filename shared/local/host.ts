import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { httpRoutes, type HttpRoute } from "../api.js";
import { App } from "../composition.js";
import type { Settings } from "../config/settings.js";
import { MAX_BODY_BYTES, requestIdOf, type ApiRequest, type Invocation } from "../http/endpoint.js";
import { corsHeaders } from "../http/cors.js";
import { problemBody } from "../http/problem.js";
import { OutboxPump } from "../escalation/outbox-pump.js";

/**
 * The local host: the Functions routes on http://localhost:PORT/api, served by
 * node:http with the same route table and handlers that Azure registers (CORS
 * included), plus what the platform does in Azure: routing, 404, and a log
 * line per request.
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

function compile(route: HttpRoute): CompiledRoute {
  const names: string[] = [];
  // `{*path}` matches any path (the CORS preflight), `{id}` one segment.
  const catchAll = route.route.startsWith("{*");
  const source = route.route.replace(/[.]/g, "\\.").replace(/\{\*?(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return catchAll ? "(.*)" : "([^/]+)";
  });
  return { pattern: new RegExp(`^/api/${source}/?$`), names, route };
}

/** The origin the client addressed, if its Host header is one. */
function originOf(host: string | undefined): string {
  if (!host) return "http://localhost";
  try {
    return new URL(`http://${host}`).origin;
  } catch {
    return "http://localhost";
  }
}

/** The route's parameters, or null when one is not valid percent-encoding (no such resource). */
function paramsOf(compiled: CompiledRoute, pathname: string): Record<string, string> | null {
  const m = compiled.pattern.exec(pathname);
  if (!m) return null;
  try {
    return Object.fromEntries(compiled.names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? "")]));
  } catch {
    return null;
  }
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
  const corsOrigins = settings.CORS_ALLOWED_ORIGINS;
  const context: Invocation = { error: (...args) => console.error(...args) };

  const server = createServer((req, res) => {
    const started = performance.now();
    serve(req, res).then(
      ({ status, requestId, path }) => log(`${req.method} ${path} ${status} ${(performance.now() - started).toFixed(1)}ms ${requestId}`),
      (e: unknown) => {
        // Whatever one request does, the host stays up.
        console.error(`${req.method} ${req.url}: the host failed to answer`, e);
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/problem+json; charset=utf-8" });
        res.end(JSON.stringify(problemBody("internal", "The local host failed to answer this request.")));
      },
    );
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<{ status: number; requestId: string; path: string }> {
    // The Host header is the client's to send: never let it decide whether the URL parses.
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = (req.method ?? "GET").toUpperCase();
    // Like the Functions host: a route is chosen by path and method together.
    const found = routes.find((r) => r.route.methods.includes(method) && r.pattern.test(url.pathname));
    const params = found ? paramsOf(found, url.pathname) : null;
    const requestId = requestIdOf(headerValue(req, "x-request-id"));
    const path = `${url.pathname}${url.search}`;
    if (!found || !params) {
      // What the Functions host answers for a path or method no function has: 404.
      const body = problemBody("not_found", "No such route.");
      const headers = { "content-type": "application/problem+json; charset=utf-8", "x-request-id": requestId, ...corsHeaders(headerValue(req, "origin"), corsOrigins) };
      res.writeHead(404, headers).end(JSON.stringify(body));
      return { status: 404, requestId, path };
    }
    const body = method === "GET" || method === "HEAD" || method === "OPTIONS" ? Promise.resolve("") : readText(req);
    const request: ApiRequest = {
      method,
      url: `${originOf(req.headers.host)}${path}`,
      headers: { get: (name) => headerValue(req, name) },
      params,
      text: () => body,
    };
    const response = await found.route.handler(request, context);
    res.writeHead(response.status, response.headers).end(response.body);
    return { status: response.status, requestId: response.headers["x-request-id"] ?? requestId, path };
  }

  // Keep-alive sockets must not hold a shutdown open.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.PORT, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  pump.start();
  // With Service Bus configured, this host also runs the notifier on the queue it publishes to.
  await app.startQueueConsumer().catch(async (error: unknown) => {
    server.close();
    await pump.stop();
    await app.close();
    throw error;
  });
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

