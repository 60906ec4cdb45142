import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { corsHeaders } from "../adapters/http/cors.js";
import { MAX_BODY_BYTES, requestIdOf, type ApiRequest, type Invocation } from "../adapters/http/endpoint.js";
import { problemBody } from "../adapters/http/problem.js";
import type { ServiceBusConsumer } from "../adapters/servicebus/consumer.js";
import { Composition } from "../app/composition.js";
import type { Config } from "../app/config.js";
import type { HttpRoute } from "../app/routes.js";
import { systemScheduler, type Scheduler } from "../kernel/scheduler.js";
import type { OutboxEntry } from "../outbox/ports.js";
import type { LocalConfig } from "./local-config.js";
import { OutboxPump } from "./outbox-pump.js";
import { localStandIns, type LocalStandIns } from "./stand-ins.js";

/**
 * The local host: the Functions routes on http://localhost:PORT/api, served by
 * node:http with the same route table and handlers that Azure registers (CORS
 * included), plus what the platform does in Azure: routing, 404, and a log
 * line per request.
 */
export interface Host {
  url: string;
  composition: Composition;
  standIns: LocalStandIns;
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

export interface HostOptions {
  config: Config;
  local: LocalConfig;
  /** Where the line per request goes. */
  log?: (line: string) => void;
  /**
   * "pump" (the default): outbox entries are dispatched as soon as they are stored, as
   * Azure's change feed does. "manual": only by whoever calls the dispatcher (the tests
   * of what a crash between publishing and marking sent does).
   */
  outbox?: "pump" | "manual";
  /**
   * The clock and timers of everything that waits or stamps a time: the use cases, the
   * notifier, the in-process queue and the outbox pump (default: the system's). Tests pass
   * one they move themselves.
   */
  scheduler?: Scheduler;
}

export async function startHost({
  config,
  local,
  log = console.log,
  outbox = "pump",
  scheduler = systemScheduler,
}: HostOptions): Promise<Host> {
  // Escalations: dispatch each change's outbox entries at once (Azure: the change feed).
  const pump = new OutboxPump(
    () => composition.dispatcher(),
    (line) => console.error(line),
    undefined, // its default retry interval
    scheduler,
  );
  const standIns = localStandIns(local.dir, scheduler);
  const outboxWritten = outbox === "pump" ? (entries: OutboxEntry[]) => pump.nudge(entries) : undefined;
  const composition = new Composition(config, { standIns: async () => standIns, outboxWritten, now: () => scheduler.now() });
  const routes = composition.routes().map(compile);
  const corsOrigins = config.cors.allowedOrigins;
  const context: Invocation = { error: (...args) => console.error(...args), log: (...args) => console.log(...args) };
  let consumer: ServiceBusConsumer | undefined;

  const server = createServer((req, res) => {
    const started = performance.now();
    serve(req, res).then(
      ({ status, requestId, path }) =>
        log(`${req.method} ${redactedQuery(path)} ${status} ${(performance.now() - started).toFixed(1)}ms ${requestId}`),
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
      const headers = {
        "content-type": "application/problem+json; charset=utf-8",
        "x-request-id": requestId,
        ...corsHeaders(headerValue(req, "origin"), corsOrigins),
      };
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
    server.listen(local.port, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  if (outbox === "pump") pump.start();
  try {
    consumer = await startQueueConsumer(composition);
  } catch (error) {
    server.close();
    await pump.stop();
    await composition.close();
    throw error;
  }
  return {
    url: `http://localhost:${port}/api`,
    composition,
    standIns,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await pump.stop();
      // The consumer before the rest: the handlers it lets finish still publish re-pages and write to the store.
      await consumer?.close();
      await composition.close();
    },
  };
}

/**
 * With an emulator or test broker (a connection string), nothing else runs the
 * notifier: this host consumes the queue itself. Never a namespace's queue: there the
 * deployed `notifyOps` function consumes it, and a developer's host would take alerts
 * from it (and deliver them to its console). Returns once subscribed; the SDK
 * connects, and reconnects, in the background.
 */
async function startQueueConsumer(composition: Composition): Promise<ServiceBusConsumer | undefined> {
  const { serviceBus, escalation } = composition.config;
  if (!serviceBus.connectionString || serviceBus.namespace || composition.config.insideAzure) return undefined;
  const { serviceBusConsumer } = await import("../adapters/servicebus/consumer.js");
  const consumer = await serviceBusConsumer(serviceBus, escalation.queue, async (m) => (await composition.notifier()).handle(m));
  await consumer.start();
  return consumer;
}

/**
 * The request line as the log keeps it: the query's names, never its values (a client that
 * puts a token or an email in the query string must not find it in the log).
 */
export function redactedQuery(path: string): string {
  const at = path.indexOf("?");
  if (at < 0) return path;
  const names = path
    .slice(at + 1)
    .split("&")
    .filter(Boolean)
    .map((pair) => `${pair.split("=")[0]}=…`);
  return `${path.slice(0, at)}?${names.join("&")}`;
}

function headerValue(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name.toLowerCase()];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(", ") : v;
}
