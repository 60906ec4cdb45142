import { randomUUID } from "node:crypto";
import { z } from "zod";
import { Failure, type FieldError } from "../tickets/errors.js";
import type { Principal } from "../tickets/model.js";
import { StoreUnavailable } from "../tickets/ports.js";
import { Unauthenticated } from "../identity/verify.js";
import { corsHeaders } from "./cors.js";
import { HttpProblem, problemBody, type ProblemKind } from "./problem.js";

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
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

/** The part of the Functions InvocationContext used here: where errors are logged. */
export interface Invocation {
  error(...args: unknown[]): void;
}

export type HttpHandler = (request: ApiRequest, context: Invocation) => Promise<ApiResponse>;

export const MAX_BODY_BYTES = 64 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

/** The client's request id if it is a sane one, else a new one. */
export function requestIdOf(incoming: string | null): string {
  return incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

export interface Reply {
  status: number;
  body?: unknown;
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

export interface EndpointOptions {
  /** Omit for anonymous routes. */
  authenticate?: (authorization: string | null) => Promise<Principal>;
  /** Browser origins allowed to read the response (CORS_ALLOWED_ORIGINS). */
  corsOrigins: readonly string[];
  run: (call: Call) => Promise<Reply>;
}

const ANONYMOUS: Principal = { id: "anonymous", name: "anonymous", email: null, role: "requester" };

export function endpoint(options: EndpointOptions): HttpHandler {
  return async (request, context) => {
    const requestId = requestIdOf(request.headers.get("x-request-id"));
    const base = { "x-request-id": requestId, ...corsHeaders(request.headers.get("origin"), options.corsOrigins) };
    try {
      const principal = options.authenticate ? await options.authenticate(request.headers.get("authorization")) : ANONYMOUS;
      const url = new URL(request.url);
      const reply = await options.run({
        request,
        requestId,
        url,
        principal,
        body: (schema) => readBody(request, schema),
        query: (schema) => validate(schema, Object.fromEntries(url.searchParams), "query"),
        param: (name) => request.params[name] ?? "",
      });
      const headers: Record<string, string> = { ...base, ...reply.headers };
      if (reply.body === undefined) return { status: reply.status, headers };
      headers["content-type"] ??= "application/json; charset=utf-8";
      return { status: reply.status, headers, body: JSON.stringify(reply.body) };
    } catch (e) {
      return problemResponse(e, base, context, requestId);
    }
  };
}

function problemResponse(e: unknown, base: Record<string, string>, context: Invocation, requestId: string): ApiResponse {
  let kind: ProblemKind;
  let detail: string;
  let errors: FieldError[] = [];
  const headers: Record<string, string> = { ...base, "content-type": "application/problem+json; charset=utf-8" };
  if (e instanceof HttpProblem) {
    ({ kind, detail, errors } = e);
    Object.assign(headers, e.headers);
  } else if (e instanceof Failure) {
    ({ kind, message: detail, errors } = e);
    if (e.retryAfter) headers["retry-after"] = String(e.retryAfter);
    // An outage of ours, not the client's doing: it goes to the log.
    if (kind === "unavailable") context.error(`[${requestId}] unavailable: ${detail}`);
  } else if (e instanceof Unauthenticated) {
    kind = "unauthenticated";
    detail = e.message;
  } else if (e instanceof StoreUnavailable) {
    kind = "unavailable";
    detail = "The ticket store is not answering; retry later.";
    headers["retry-after"] = String(e.retryAfterSeconds);
    context.error(`[${requestId}] store unavailable: ${e.message}`);
  } else {
    kind = "internal";
    detail = `Something went wrong on our side (request ${requestId}).`;
    context.error(`[${requestId}] unhandled error`, e);
  }
  if (kind === "unauthenticated") headers["www-authenticate"] = `Bearer realm="helpdesk", error="invalid_token"`;
  const body = problemBody(kind, detail, errors);
  return { status: body.status, headers, body: JSON.stringify(body) };
}

async function readBody<S extends z.ZodType>(request: ApiRequest, schema: S): Promise<{ value: z.output<S>; raw: string }> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new HttpProblem("unsupported_media_type", "Send the body as application/json.");
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const raw = await request.text();
  if (Buffer.byteLength(raw, "utf8") > MAX_BODY_BYTES) throw tooLarge();
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new HttpProblem("malformed", "The body is not valid JSON.");
  }
  return { value: validate(schema, json, "body"), raw };
}

const tooLarge = () => new HttpProblem("too_large", `The body is over ${MAX_BODY_BYTES / 1024} KiB.`);

function validate<S extends z.ZodType>(schema: S, input: unknown, where: "body" | "query"): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((i) => ({
    path: i.path.length ? i.path.join(".") : where,
    message: i.code === "unrecognized_keys" ? `Unknown field(s): ${i.keys.join(", ")}` : i.message,
  }));
  throw new Failure("invalid", `The request ${where} is invalid.`, errors);
}
