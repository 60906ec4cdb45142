import { randomUUID } from "node:crypto";
import type { ReadableStream } from "node:stream/web";
import * as z from "zod";
import { Failure, isFailure } from "../../kernel/failure.js";
import type { Principal } from "../../kernel/principal.js";
import { corsHeaders } from "./cors.js";
import type { RateLimit } from "./rate-limit.js";
import { isProblemKind, problemBody } from "./problem.js";

/**
 * Everything every HTTP function does around its use case: request id, token,
 * body limits and JSON parsing, zod validation, and turning every failure into
 * problem+json. The request/response shapes are the parts of @azure/functions'
 * HttpRequest/HttpResponseInit the handlers use, so Azure and the local host
 * call the same handlers.
 */

export interface ApiRequest {
  method: string;
  url: string;
  headers: { get(name: string): string | null };
  params: Record<string, string>;
  text(): Promise<string>;
  /** The client's address, where the host knows it (the local host); in Azure, X-Forwarded-For says. */
  clientAddress?: string;
  /** The body as a stream, where the host offers one (Azure's HttpRequest): read no further than the limit. */
  body?: ReadableStream | null;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

/** The part of the Functions InvocationContext used here: where errors are logged. */
export interface Invocation {
  error(...args: unknown[]): void;
  /** Information, not an error of ours (the reason a token was refused). */
  log?(...args: unknown[]): void;
}

export type HttpHandler = (request: ApiRequest, context: Invocation) => Promise<ApiResponse>;

export const MAX_BODY_BYTES = 64 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's request id if it is a sane one, else a new one. */
export function requestIdOf(incoming: string | null): string {
  return incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

export interface Reply {
  status: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is (the docs page's HTML, script and style), under the content-type its headers name. */
  text?: string;
  headers?: Record<string, string>;
}

export interface Call {
  request: ApiRequest;
  requestId: string;
  url: URL;
  principal: Principal;
  /** The raw body text, parsed as JSON and validated. */
  body<S extends z.ZodType>(schema: S): Promise<{ value: z.output<S>; raw: string }>;
  query<S extends z.ZodType>(schema: S): z.output<S>;
  param(name: string): string;
}

/** What every endpoint needs beside its own use case: who the caller is, and which browsers may read the answer. */
export interface HttpContext {
  authenticate: (authorization: string | null) => Promise<Principal>;
  /** Browser origins allowed to read the response (CORS_ALLOWED_ORIGINS). */
  corsOrigins: readonly string[];
  /** Buckets per signed-in caller, and per client address on the anonymous routes. */
  limits?: { caller: RateLimit; anonymous: RateLimit };
}

export interface EndpointOptions {
  auth: boolean;
  /** Points of the caller's bucket the request spends; by default COSTS.read for a GET, else COSTS.write. */
  cost?: number;
}

/** What a request costs its caller's bucket, as it costs the store: a point read least, a page most. */
export const COSTS = { read: 1, write: 2, page: 3 } as const;

const ANONYMOUS: Principal = { id: "anonymous", name: "anonymous", email: null, role: "requester" };

/**
 * Who the client is, for the anonymous bucket: the local host's socket address, or in
 * Azure the last hop of X-Forwarded-For (the one the platform's front end added; earlier
 * ones are the client's to write).
 */
function clientAddressOf(request: ApiRequest): string {
  if (request.clientAddress) return request.clientAddress;
  const hops = (request.headers.get("x-forwarded-for") ?? "").split(",").map((h) => h.trim());
  const last = hops.at(-1) ?? "";
  // "203.0.113.7:51234" or "[2001:db8::1]:51234": the port changes per connection, the address does not.
  return last.replace(/^\[([^\]]+)\](:\d+)?$/, "$1").replace(/^([^:]+):\d+$/, "$1") || "unknown";
}

/**
 * The caller, from their token. A refused token spends the client address's anonymous
 * bucket, so that nobody can make the API verify signatures (and log why they failed)
 * without limit: past it, 429 rather than 401.
 */
async function authenticated(http: HttpContext, request: ApiRequest): Promise<Principal> {
  try {
    return await http.authenticate(request.headers.get("authorization"));
  } catch (e) {
    if (http.limits && isFailure(e, "unauthenticated")) {
      await http.limits.anonymous.take(`address:${clientAddressOf(request)}`, COSTS.read);
    }
    throw e;
  }
}

export function endpoint(http: HttpContext, options: EndpointOptions, run: (call: Call) => Promise<Reply>): HttpHandler {
  return async (request, context) => {
    const requestId = requestIdOf(request.headers.get("x-request-id"));
    const base: Record<string, string> = { "x-request-id": requestId, ...corsHeaders(request.headers.get("origin"), http.corsOrigins) };
    try {
      const principal = options.auth ? await authenticated(http, request) : ANONYMOUS;
      if (http.limits) {
        const cost = options.cost ?? (request.method.toUpperCase() === "GET" ? COSTS.read : COSTS.write);
        const spent = options.auth
          ? await http.limits.caller.take(`caller:${principal.id}`, cost)
          : await http.limits.anonymous.take(`address:${clientAddressOf(request)}`, cost);
        Object.assign(base, spent);
      }
      const url = new URL(request.url);
      const reply = await run({
        request,
        requestId,
        url,
        principal,
        body: (schema) => readBody(request, schema),
        query: (schema) => validate(schema, Object.fromEntries(url.searchParams), "query"),
        param: (name) => request.params[name] ?? "",
      });
      const headers: Record<string, string> = { ...base, ...reply.headers };
      if (reply.text !== undefined) return { status: reply.status, headers, body: reply.text };
      if (reply.body === undefined) return { status: reply.status, headers };
      headers["content-type"] ??= "application/json; charset=utf-8";
      return { status: reply.status, headers, body: JSON.stringify(reply.body) };
    } catch (e) {
      return problemResponse(e, base, context, requestId);
    }
  };
}

function problemResponse(e: unknown, base: Record<string, string>, context: Invocation, requestId: string): ApiResponse {
  const headers: Record<string, string> = { ...base, "content-type": "application/problem+json; charset=utf-8" };
  let body: ReturnType<typeof problemBody>;
  // The kinds the problem table has: the store's own ("exists", "stale") never reach a client as such.
  if (e instanceof Failure && isProblemKind(e.kind)) {
    body = problemBody(e.kind, e.message, e.errors);
    Object.assign(headers, e.headers);
    if (e.retryAfter) headers["retry-after"] = String(e.retryAfter);
    if (e.kind === "unauthenticated") {
      headers["www-authenticate"] = `Bearer realm="helpdesk", error="invalid_token"`;
      // Why, for whoever reads the log; the client got the one generic answer.
      if (e.cause !== undefined) context.log?.(`[${requestId}] unauthenticated: ${describe(e.cause)}`);
    }
    // An outage of ours, not the client's doing: it goes to the log, as the adapter put it
    // (its cause, e.g. "store unavailable: Cosmos DB did not answer (429).") or as the client was told.
    if (e.kind === "unavailable")
      context.error(`[${requestId}] ${e.cause === undefined ? `unavailable: ${e.message}` : describe(e.cause)}`);
  } else {
    body = problemBody("internal", `Something went wrong on our side (request ${requestId}).`);
    context.error(`[${requestId}] unhandled error`, e);
  }
  return { status: body.status, headers, body: JSON.stringify(body) };
}

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function readBody<S extends z.ZodType>(request: ApiRequest, schema: S): Promise<{ value: z.output<S>; raw: string }> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new Failure("unsupported_media_type", "Send the body as application/json.");
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const raw = await readLimited(request);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Failure("malformed", "The body is not valid JSON.");
  }
  return { value: validate(schema, json, "body"), raw };
}

/**
 * The body's text, or "too_large" once it passes the limit, chunked or not: never a
 * body cut at the limit and parsed as if it were whole. From a stream, no more than the
 * limit (and one chunk) is read.
 */
async function readLimited(request: ApiRequest): Promise<string> {
  if (!request.body) {
    const text = await request.text();
    if (Buffer.byteLength(text, "utf8") > MAX_BODY_BYTES) throw tooLarge();
    return text;
  }
  const reader = (request.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const tooLarge = () => new Failure("too_large", `The body is over ${MAX_BODY_BYTES / 1024} KiB.`);

function validate<S extends z.ZodType>(schema: S, input: unknown, where: "body" | "query"): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((i) => ({
    path: i.path.length ? i.path.join(".") : where,
    message: i.code === "unrecognized_keys" ? `Unknown field(s): ${i.keys.join(", ")}` : i.message,
  }));
  throw new Failure("invalid", `The request ${where} is invalid.`, { errors });
}
