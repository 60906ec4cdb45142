import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { corsHeaders } from "../adapters/http/cors.js";
import { MAX_BODY_BYTES, requestIdOf, type ApiRequest, type Invocation } from "../adapters/http/endpoint.js";
import { problemBody, PROBLEMS } from "../adapters/http/problem.js";
import type { ServiceBusConsumer } from "../adapters/servicebus/consumer.js";
import { Composition } from "../app/composition.js";
import type { Config } from "../app/config.js";
import type { HttpRoute } from "../app/routes.js";
import { systemScheduler, type Scheduler } from "../kernel/scheduler.js";
import type { OutboxEntry } from "../outbox/ports.js";
import { devTrust } from "./dev-issuer.js";
import type { LocalConfig } from "./local-config.js";
import { OutboxPump } from "./outbox-pump.js";
import { stdoutRequestLog, type RequestLog } from "./request-log.js";
import { localStandIns, type LocalStandIns } from "./stand-ins.js";
import { STORE_FILE_NAME } from "./store-file.js";

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

/**
 * The body's text, read as it arrives, up to the limit: past it, the text stops there (already
 * over the limit, so the endpoint answers 413; never a body cut at the limit and parsed as if
 * it were whole). What the client still sends is read and dropped (`tooLong` says so), and the
 * response closes the connection, so the client gets its 413 rather than a reset. (Plain
 * buffers, not a web ReadableStream: one per request was about 3% of a create's CPU here.)
 */
function limitedBody(req: IncomingMessage): { text: () => Promise<string>; tooLong: () => boolean } {
  let over = false;
  const text = new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      if (over) return; // dropped: the answer is 413 whatever follows
      size += chunk.length;
      chunks.push(chunk);
      if (size > MAX_BODY_BYTES) {
        over = true;
        resolve(Buffer.concat(chunks).toString("utf8"));
      }
    });
    req.on("end", () => {
      if (!over) resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", (e) => {
      if (!over) reject(e);
    });
  });
  // A body no handler reads (refused before it was) has nobody to see it fail.
  text.catch(() => {});
  return { text: () => text, tooLong: () => over };
}

/** How much of a body nobody reads the host still takes in, and for how long, before it cuts the client off. */
const DISCARD_LIMIT = { bytes: 32 * 1024 * 1024, ms: 10_000 };

/** Resolves once the request's body has all arrived (and been dropped), or past DISCARD_LIMIT. */
function drained(req: IncomingMessage): Promise<void> {
  const declared = Number(req.headers["content-length"]);
  if (declared > DISCARD_LIMIT.bytes) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      req.off("data", count).off("end", done).off("close", done).off("error", done);
      resolve();
    };
    const count = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DISCARD_LIMIT.bytes) done();
    };
    const timer = setTimeout(done, DISCARD_LIMIT.ms);
    req.on("data", count).once("end", done).once("close", done).once("error", done);
    req.resume();
  });
}

export interface HostOptions {
  config: Config;
  local: LocalConfig;
  /** Where the line per request goes (default: stdout, as JSON lines). */
  requestLog?: RequestLog;
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
  requestLog = stdoutRequestLog(),
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
  // LOCAL_STORE=file: the embedded store is kept in LOCAL_DIR (when it is used: COSMOS_ENDPOINT unset).
  const keep = local.store === "file" ? { file: join(local.dir, STORE_FILE_NAME), database: config.cosmos.database } : undefined;
  // And Azurite's blobs beside it, so that attachments outlive a restart as their tickets do.
  const standIns = localStandIns(scheduler, keep, keep ? join(local.dir, BLOBS_DIR_NAME) : undefined, join(local.dir, MAIL_DIR_NAME));
  const outboxWritten = outbox === "pump" ? (entries: OutboxEntry[]) => pump.nudge(entries) : undefined;
  const composition = new Composition(config, {
    standIns: async () => standIns,
    // Turned on here, explicitly, and nowhere else: trusted only while AUTH_* are unset.
    devIssuer: () => devTrust(local.dir),
    outboxWritten,
    now: () => scheduler.now(),
    // Alerts link to this host's own tickets, on the port it got (PORT may be 0: any free one).
    ownUrl: () => urlOf(server),
  });
  composition.warmUp();
  const routes = composition.routes().map(compile);
  const corsOrigins = config.cors.allowedOrigins;
  const context: Invocation = { error: (...args) => console.error(...args), log: (...args) => console.log(...args) };
  let consumers: ServiceBusConsumer[] = [];
  let draining = false;

  const server = createServer((req, res) => {
    const started = performance.now();
    serve(req, res).then(
      ({ status, requestId, path }) =>
        requestLog.write({
          method: req.method ?? "GET",
          path: redactedQuery(path),
          status,
          ms: Math.round((performance.now() - started) * 10) / 10,
          requestId,
        }),
      (e: unknown) => {
        // Whatever one request does, the host stays up.
        console.error(`${req.method} ${redactedQuery(req.url ?? "/")}: the host failed to answer`, e);
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
    const path = `${url.pathname}${url.search}`;
    if (!found || !params) {
      // What the Functions host answers for a path or method no function has: 404. (A routed
      // request gets its id from its handler.)
      const requestId = requestIdOf(headerValue(req, "x-request-id"));
      const body = problemBody("not_found", "No such route.");
      const headers = {
        "content-type": "application/problem+json; charset=utf-8",
        "x-request-id": requestId,
        ...corsHeaders(headerValue(req, "origin"), corsOrigins),
        ...(draining ? { connection: "close" } : {}),
      };
      res.writeHead(404, headers).end(JSON.stringify(body));
      return { status: 404, requestId, path };
    }
    const hasBody = !(method === "GET" || method === "HEAD" || method === "OPTIONS");
    const body = hasBody ? limitedBody(req) : null;
    const request: ApiRequest = {
      method,
      url: `${originOf(req.headers.host)}${path}`,
      headers: { get: (name) => headerValue(req, name) },
      params,
      clientAddress: req.socket.remoteAddress ?? "unknown",
      text: body?.text ?? (async () => ""),
    };
    const response = await found.route.handler(request, context);
    // A body the answer did not need (over the limit, or refused before it was read) may still
    // be arriving: read and drop the rest before answering, then close, so that the client
    // reads its 413 (or 401...) instead of a reset. Past DISCARD_LIMIT, it is cut off.
    const owed = body !== null && !req.complete;
    if (owed) await drained(req);
    // While the host drains, every answer closes its connection too.
    const headers = owed || body?.tooLong() || draining ? { ...response.headers, connection: "close" } : response.headers;
    res.writeHead(response.status, headers).end(response.body);
    return { status: response.status, requestId: response.headers["x-request-id"] ?? "", path };
  }

  // What Node's parser refuses never reaches a handler: answer it in the API's own terms
  // (problem+json, a request id) rather than Node's bare status line.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    // Only what the parser refused is answered here; a timeout gets Node's own 408, as before.
    if (!error.code?.startsWith("HPE_")) {
      if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") return socket.end("HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n");
      return socket.destroy();
    }
    const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
    const kind = tooLarge ? "headers_too_large" : "malformed";
    const body = JSON.stringify(problemBody(kind, tooLarge ? "The request's headers are too large." : "The request is not valid HTTP."));
    const status = PROBLEMS[kind].status;
    const head = [
      `HTTP/1.1 ${status} ${tooLarge ? "Request Header Fields Too Large" : "Bad Request"}`,
      "content-type: application/problem+json; charset=utf-8",
      `content-length: ${Buffer.byteLength(body)}`,
      `x-request-id: ${requestIdOf(null)}`,
      "connection: close",
    ];
    socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
  });

  // Keep-alive sockets must not hold a shutdown open.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(local.port, "127.0.0.1", () => resolve());
  });
  if (outbox === "pump") pump.start();
  const stopSweeping = sweepEveryHour(composition, scheduler);
  try {
    consumers = await startQueueConsumers(composition);
  } catch (error) {
    server.close();
    stopSweeping();
    await pump.stop();
    await composition.close();
    throw error;
  }
  return {
    url: urlOf(server),
    composition,
    standIns,
    close: async () => {
      // Drain: no new connection; idle ones closed now; every request under way is answered,
      // with Connection: close, so its client neither reuses the socket nor sees a reset.
      draining = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      stopSweeping();
      await pump.stop();
      // The consumer before the rest: the handlers it lets finish still publish re-pages and write to the store.
      await Promise.all(consumers.map((c) => c.close()));
      await composition.close();
      await requestLog.flush();
    },
  };
}

/** Where LOCAL_STORE=file keeps the embedded Azurite's data, in LOCAL_DIR. */
const BLOBS_DIR_NAME = "blobs";
/** Where, in LOCAL_DIR, the requester emails are written as .eml files when EMAIL_ENDPOINT is unset. */
const MAIL_DIR_NAME = "mail";

/** How often the local host deletes uploads never attached (Azure's lifecycle rule runs daily). */
const SWEEP_INTERVAL_MS = 60 * 60_000;

/** Uploads never attached are deleted after a day: hourly, while the host runs. The function that stops it. */
function sweepEveryHour(composition: Composition, scheduler: Scheduler): () => void {
  let cancel = () => {};
  let stopped = false;
  const next = () => {
    if (stopped) return;
    cancel = scheduler.after(SWEEP_INTERVAL_MS, () =>
      composition.sweepUploads().then(
        (n) => {
          if (n) console.log(`attachments: deleted ${n} upload(s) never attached`);
          next();
        },
        (e: unknown) => {
          console.error(`attachments: the sweep of uploads never attached failed: ${e instanceof Error ? e.message : String(e)}`);
          next();
        },
      ),
    );
  };
  next();
  return () => {
    stopped = true;
    cancel();
  };
}

/** The API's address on a listening server. */
function urlOf(server: Server): string {
  const address = server.address() as AddressInfo | null;
  if (!address) throw new Error("The local host was asked its URL before it listens.");
  return `http://localhost:${address.port}/api`;
}

/**
 * With an emulator or test broker (a connection string), nothing else runs the
 * notifier, the SLA timers, the ticket commands and the notifications: this host consumes
 * their queues itself. Never a namespace's queues: there the deployed functions consume them, and a
 * developer's host would take alerts from them (and deliver them to its console). Returns
 * once subscribed; the SDK connects, and reconnects, in the background.
 */
async function startQueueConsumers(composition: Composition): Promise<ServiceBusConsumer[]> {
  const { serviceBus, escalation, timers, ticketCommands, notifications } = composition.config;
  if (!serviceBus.connectionString || serviceBus.namespace || composition.config.insideAzure) return [];
  const { serviceBusConsumer } = await import("../adapters/servicebus/consumer.js");
  const consumers = [
    await serviceBusConsumer(serviceBus, escalation.queue, async (m) => (await composition.notifier()).handle(m)),
    await serviceBusConsumer(serviceBus, timers.queue, (m) => composition.handleTimer(m)),
    await serviceBusConsumer(serviceBus, ticketCommands.queue, (m) => composition.handleTicketCommand(m)),
    await serviceBusConsumer(serviceBus, notifications.queue, (m) => composition.handleNotification(m)),
  ];
  await Promise.all(consumers.map((c) => c.start()));
  return consumers;
}

/**
 * The request line as the log keeps it: the query's names, never its values (a client that
 * puts a token or an email in the query string must not find it in the log).
 */
function redactedQuery(path: string): string {
  const at = path.indexOf("?");
  if (at < 0) return path;
  const names = path
    .slice(at + 1)
    .split("&")
    .filter(Boolean)
    // A part without "=" is all value (a bare token): it goes as "…" too.
    .map((pair) => (pair.includes("=") ? `${pair.split("=")[0]}=…` : "…"));
  return `${path.slice(0, at)}?${names.join("&")}`;
}

function headerValue(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name.toLowerCase()];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(", ") : v;
}
