import * as z from "zod";
import { MAX_BODY_BYTES } from "./endpoint.js";
import { Problem, PROBLEMS } from "./problem.js";
import { commaSeparatedItems } from "./query.js";

/**
 * OpenAPI 3.1 from the route table: the request and response schemas are the zod
 * objects that validate, turned into JSON Schema by zod itself, so the document
 * cannot drift from what the API accepts. Which headers and statuses an operation
 * has follows from what it takes (a body, a query, If-Match...), as the endpoint
 * (endpoint.ts) and the handlers answer them.
 */
export interface RouteDoc {
  summary: string;
  /** Who may call it and what it does, in a sentence or two (Markdown). */
  description: string;
  /** The operation's one tag (TAGS). */
  tag: Tag;
  auth: boolean;
  body?: z.ZodType;
  query?: z.ZodObject;
  /** Path parameters' schemas, by name; a parameter without one is any string. */
  params?: Record<string, z.ZodType>;
  ok: DocumentedResponse;
  /**
   * Answers besides `ok` that carry a body of the route's own rather than problem+json
   * (health's 503: degraded, and why).
   */
  also?: DocumentedResponse[];
  /**
   * Problem+json statuses of the route's own (403, 409), besides those that follow from
   * what it takes: 401 and 503 (signed in), 404 (a path parameter), 400 (a body or a
   * query), 413 and 415 (a body), 412 (If-Match), 409 and 422 (Idempotency-Key), and
   * 429 and 500 everywhere.
   */
  errors?: number[];
  /** Request headers it reads, beside x-request-id (every operation) and Authorization (the security scheme). */
  headers?: RequestHeader[];
  /** Left out of the document (the CORS preflight). */
  hidden?: boolean;
}

export interface DocumentedResponse {
  status: number;
  schema?: z.ZodType;
  /** The schema's media type; application/json unless said (the docs page is text/html). */
  contentType?: string;
  description: string;
  /** Headers of this answer beside those every answer has (x-request-id, the rate limit's). */
  headers?: ResponseHeader[];
  /** Headers it carries only sometimes (Idempotent-Replayed: on a replay). */
  sometimes?: ResponseHeader[];
}

/**
 * What GET /api/openapi.json answers, as far as a client relies on it: the fields of an
 * OpenAPI 3.1 document that this one always has (the rest is left open).
 */
export const OpenApiJson = z
  .looseObject({
    openapi: z.string().regex(/^3\.1\.\d+$/),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    servers: z.array(z.looseObject({ url: z.url() })).length(1),
    paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  })
  .meta({ id: "OpenApiDocument", description: "This OpenAPI 3.1 document." });

export interface DocumentedRoute {
  name: string;
  route: string;
  methods: string[];
  doc: RouteDoc;
}

export const TAGS = {
  Tickets: "Opening, reading, triaging, assigning and moving tickets through their lifecycle.",
  Timeline: "Public replies, internal notes, and each ticket's history.",
  Escalation: "Paging ops for a business-impacting ticket, and acknowledging the page.",
  Agents: "The agents known to the help desk.",
  SLA: "The SLA policy: first-response and resolution targets per priority, and the calendar business time is counted in.",
  Incidents: "Many reports of one outage linked to one incident: one page to ops, one update to every reporter.",
  Notifications: "What each person is told of their tickets, and how; the events the apps' backends subscribe to (webhooks).",
  Attachments: "Files on a ticket: uploaded straight to Blob Storage through a short-lived URL, never through the API.",
  Service: "The contract and the service's health.",
} as const;
export type Tag = keyof typeof TAGS;

/**
 * The request headers an operation may read, as OpenAPI parameters. Without examples, as
 * every parameter: the docs page (Swagger UI) fills examples in, and would send them.
 */
const REQUEST_HEADERS = {
  "If-Match": {
    description:
      "Apply the change only if the ticket (or the SLA policy) still has this ETag (the caller's own, from the last response); 412 otherwise. `*` matches any version.",
    schema: { type: "string", minLength: 1 },
  },
  "If-None-Match": {
    description: "Answer 304 Not Modified, with no body, if the caller's ETag of this resource is still this one.",
    schema: { type: "string", minLength: 1 },
  },
  "Idempotency-Key": {
    description:
      "Retrying with the same key and body replays the first response (`Idempotent-Replayed: true`) and creates nothing; the same key with another body is 422, and while the first request runs, 409. Kept per caller for at least 24 hours.",
    schema: { type: "string", pattern: "^[!-~]{1,255}$" },
  },
  Accept: {
    description:
      "`application/json`: answer 200 with where the file is, for an app that hands the URL on (an `<img>`, a download manager); otherwise 302 to it.",
    schema: { type: "string" },
  },
  "x-request-id": {
    description:
      "Your id for this request, echoed in the response's x-request-id and written in the server's log. 1 to 128 of `A-Z a-z 0-9 . _ : -`; anything else is replaced by a new id.",
    schema: { type: "string" },
  },
} as const;
export type RequestHeader = Exclude<keyof typeof REQUEST_HEADERS, "x-request-id">;

/**
 * The response headers the API sets, as OpenAPI header objects. They are the ones CORS
 * exposes to a browser (cors.ts EXPOSED_HEADERS): test/support/contract.ts holds every
 * response's headers to what its operation and status declare here.
 */
const RESPONSE_HEADERS = {
  "x-request-id": {
    description:
      "The request's id: the client's own x-request-id when it sent a sane one, else a new one. Quote it when reporting a problem.",
    schema: { type: "string", minLength: 1, maxLength: 128 },
    example: "web-7f3a9c",
  },
  ETag: {
    description:
      "The version of the ticket (or of its timeline, a weak one) as this caller sees it, or of the SLA policy: send it back in If-Match (writes) or If-None-Match (reads). A requester's moves only with what they can see.",
    schema: { type: "string", pattern: '^(W/)?"[^"]+"$' },
    example: '"r3.5"',
  },
  Location: {
    description:
      "Where the created resource is read (the ticket, or the timeline the comment was added to), or a broadcast's progress is followed; on a 302, where the file is: a read-only URL for 5 minutes.",
    schema: { type: "string", format: "uri-reference" },
    example: "/api/tickets/4f7a9c2e1b3d5f6a7c8e9d0b",
  },
  "Cache-Control": {
    description: "`no-store`: the answer holds a short-lived credential (a download URL), which no cache may keep.",
    schema: { type: "string", enum: ["no-store"] },
    example: "no-store",
  },
  "Idempotent-Replayed": {
    description: "`true` when this is the first response to the same Idempotency-Key and body, replayed: nothing new was created.",
    schema: { type: "string", enum: ["true"] },
    example: "true",
  },
  "Retry-After": {
    description: "Seconds to wait before retrying.",
    schema: { type: "integer", minimum: 1 },
    example: 5,
  },
  "WWW-Authenticate": {
    description: "The Bearer challenge (RFC 6750): the token is missing or not valid.",
    schema: { type: "string", pattern: "^Bearer " },
    example: 'Bearer realm="helpdesk", error="invalid_token"',
  },
  RateLimit: {
    description:
      'Where the caller\'s bucket stands (draft-ietf-httpapi-ratelimit-headers): `"<policy>";r=<points left>;t=<seconds until it is full again>`.',
    schema: { type: "string", pattern: '^"[a-z]+";r=\\d+;t=\\d+$' },
    example: '"caller";r=597;t=1',
  },
  "RateLimit-Policy": {
    description:
      'The bucket\'s policy: `"<policy>";q=<points>;w=<seconds to refill from empty>`. A read costs 1 point, a write 2, a page 3.',
    schema: { type: "string", pattern: '^"[a-z]+";q=\\d+;w=\\d+$' },
    example: '"caller";q=600;w=60',
  },
} as const;
export type ResponseHeader = Exclude<keyof typeof RESPONSE_HEADERS, "x-request-id" | "RateLimit" | "RateLimit-Policy">;

/** Each problem+json answer: its name under components.responses, and when it is given. */
const PROBLEM_ANSWERS: Record<number, { name: string; when: string }> = {
  400: { name: "BadRequest", when: "Malformed JSON, invalid or unknown fields, or a bad query, cursor or header (`errors` says which)" },
  401: { name: "Unauthenticated", when: "The token is missing or not valid (WWW-Authenticate)" },
  403: { name: "Forbidden", when: "Signed in, but not allowed to do this" },
  404: { name: "NotFound", when: "No such ticket, or not the caller's to see" },
  409: {
    name: "Conflict",
    when: "Not allowed in the ticket's current state, a request with this Idempotency-Key is still running, or an attachment is still being scanned (Retry-After)",
  },
  410: { name: "Gone", when: "The malware scan found the attachment malicious, or could not scan it: it is never served" },
  412: { name: "PreconditionFailed", when: "If-Match does not match the ETag of the ticket (or of the SLA policy)" },
  413: { name: "ContentTooLarge", when: `The body is over ${MAX_BODY_BYTES / 1024} KiB` },
  415: { name: "UnsupportedMediaType", when: "The body is not application/json" },
  422: { name: "IdempotencyKeyReused", when: "This Idempotency-Key was used with a different body" },
  429: { name: "TooManyRequests", when: "The caller's rate-limit bucket is spent (Retry-After)" },
  500: { name: "InternalError", when: "A fault of ours, logged under the request id" },
  503: { name: "ServiceUnavailable", when: "The store, or the token issuer's keys, do not answer; nothing was applied (Retry-After)" },
};

const statusTitle = (status: number) => Object.values(PROBLEMS).find((p) => p.status === status)?.title ?? "Error";

/** zod names its $refs `#/$defs/X`; in an OpenAPI document they live under components.schemas. */
const componentRefs = (json: object): Record<string, unknown> =>
  JSON.parse(JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;

const unwrapOptional = (s: z.ZodType): z.ZodType =>
  s instanceof z.ZodOptional || s instanceof z.ZodDefault ? unwrapOptional(s.unwrap() as z.ZodType) : s;

type AnyResponseHeader = keyof typeof RESPONSE_HEADERS;

const BEFORE_THE_BUCKET =
  "Absent when the request was refused before its bucket was taken from (by its token, or the token issuer's keys).";

/**
 * Which headers an answer carries, and which of them always: the endpoint's, and the route's
 * own. Each is a $ref to components.headers, where `headers` collects the ones used (a header
 * sent only sometimes has a component of its own, not required).
 */
function responseHeaders(
  status: number,
  own: Pick<DocumentedResponse, "headers" | "sometimes">,
  auth: boolean,
  headers: Record<string, unknown>,
) {
  const answer: Record<string, boolean> = { "x-request-id": true };
  // The rate limit's fields go on every answer once the caller's bucket is taken from, which
  // is after the token is verified: never on a 401, and maybe not on a 403, 500 or 503 that
  // came before (the token's, or its keys').
  if (status !== 401) {
    const always = status < 400 || status === 429 || (!auth && status !== 500);
    answer.RateLimit = always;
    answer["RateLimit-Policy"] = always;
  }
  for (const h of own.headers ?? []) answer[h] = true;
  for (const h of own.sometimes ?? []) answer[h] = false;
  if (status === 401) answer["WWW-Authenticate"] = true;
  if (status === 429 || status === 503) answer["Retry-After"] = true;
  // An attachment still being scanned: ask again then.
  if (status === 409) answer["Retry-After"] = false;
  return Object.fromEntries(
    Object.entries(answer).map(([name, required]) => {
      const spec = RESPONSE_HEADERS[name as AnyResponseHeader];
      const pascal = name
        .split("-")
        .map((w) => w[0]!.toUpperCase() + w.slice(1))
        .join("");
      const component = required ? pascal : `${pascal}IfSent`;
      const absent = name.startsWith("RateLimit") && !required ? ` ${BEFORE_THE_BUCKET}` : "";
      headers[component] ??= { ...spec, description: spec.description + absent, required };
      return [name, { $ref: `#/components/headers/${component}` }];
    }),
  );
}

/** The problem+json statuses of an operation: what follows from what it takes, and its own. */
function problemStatuses(path: string, doc: RouteDoc): number[] {
  const headers = doc.headers ?? [];
  return [
    ...new Set([
      ...(doc.auth ? [401, 503] : []),
      ...(path.includes("{") ? [404] : []),
      ...(doc.body || doc.query ? [400] : []),
      ...(doc.body ? [413, 415] : []),
      ...(headers.includes("If-Match") ? [412] : []),
      ...(headers.includes("Idempotency-Key") ? [409, 422] : []),
      ...(doc.errors ?? []),
      // Every route spends its caller's (or client address's) bucket.
      429,
      500,
    ]),
  ].sort((a, b) => a - b);
}

export interface ServedDocument {
  openapi: string;
  info: Record<string, unknown>;
  servers: { url: string; description: string }[];
  [field: string]: unknown;
}

/**
 * The document, for clients of the API at `serverUrl` (absolute: `https://host/api`).
 * GET /api/openapi.json serves it for the origin the request came to (routes.ts).
 */
export function openApiDocument(routes: DocumentedRoute[], serverUrl: string): ServedDocument {
  // Named schemas (zod .meta({ id })) go to components.schemas once, and are $ref'd from
  // the operations: a "#/$defs/..." left inside an operation would resolve against the
  // OpenAPI document's root, where it does not exist.
  const components: Record<string, unknown> = {};
  // Request bodies and parameters are described as zod reads them (io "input": a field with
  // a default is optional), responses as the API writes them (io "output").
  const schema = (s: z.ZodType, io: "input" | "output") => {
    const {
      $schema: _,
      $defs,
      ...json
    } = z.toJSONSchema(s, { io, unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown> & {
      $defs?: Record<string, unknown>;
    };
    for (const [name, def] of Object.entries($defs ?? {})) {
      // One name, one shape: a named schema read on one side and written on the other
      // (a default makes a field optional in, present out) must not overwrite itself.
      if (name in components && JSON.stringify(components[name]) !== JSON.stringify(def))
        throw new Error(`The schema ${name} differs between requests and responses: give each side its own id`);
      components[name] = def;
    }
    return componentRefs(json);
  };
  const parameterOf = (name: string, where: "query" | "path", field: z.ZodType) => {
    const items = commaSeparatedItems(unwrapOptional(field));
    // A comma-separated list (`status=open,in_progress`) is an array of its items, not exploded.
    const json = items ? { ...schema(z.array(items).min(1), "input"), ...list(field) } : schema(field, "input");
    const { description, ...rest } = json as { description?: string };
    return {
      name,
      in: where,
      required: where === "path" || !field.safeParse(undefined).success,
      description: description ?? name,
      ...(items ? { style: "form", explode: false } : {}),
      schema: rest,
    };
  };
  // A list's description is given on its optional wrapper.
  const list = (field: z.ZodType) => {
    const { description } = schema(field, "input") as { description?: string };
    return description ? { description } : {};
  };
  const headers: Record<string, unknown> = {};
  const problems: Record<string, unknown> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes.filter((route) => !route.doc.hidden)) {
    const path = `/${r.route}`;
    for (const method of r.methods) {
      const { doc } = r;
      const parameters: unknown[] = [...path.matchAll(/\{(\w+)\}/g)].map((m) =>
        parameterOf(m[1]!, "path", doc.params?.[m[1]!] ?? z.string().describe(m[1]!)),
      );
      for (const [name, field] of Object.entries(doc.query?.shape ?? {})) parameters.push(parameterOf(name, "query", field as z.ZodType));
      for (const h of [...(doc.headers ?? []), "x-request-id" as const]) {
        parameters.push({ name: h, in: "header", required: false, ...REQUEST_HEADERS[h] });
      }
      const responses: Record<string, unknown> = {};
      for (const answer of [doc.ok, ...(doc.also ?? [])]) {
        responses[answer.status] = {
          description: answer.description,
          headers: responseHeaders(answer.status, answer, doc.auth, headers),
          ...(answer.schema
            ? { content: { [answer.contentType ?? "application/json"]: { schema: schema(answer.schema, "output") } } }
            : {}),
        };
      }
      if (doc.headers?.includes("If-None-Match")) {
        // Conditional GET: the caller's copy is current; the answer has no body.
        responses[304] = {
          description: "Not modified: If-None-Match names the current ETag",
          headers: responseHeaders(304, { headers: ["ETag"] }, doc.auth, headers),
        };
      }
      for (const status of problemStatuses(path, doc)) {
        if (responses[status]) throw new Error(`${r.name}: ${status} is documented both as its own answer and as problem+json`);
        // The same answer wherever it is given: one component each (components.responses).
        const { name, when } = PROBLEM_ANSWERS[status] ?? { name: `Problem${status}`, when: "see the detail" };
        problems[name] ??= {
          description: `${statusTitle(status)}: ${when}`,
          headers: responseHeaders(status, {}, true, headers),
          content: { "application/problem+json": { schema: schema(Problem, "output") } },
        };
        responses[status] = { $ref: `#/components/responses/${name}` };
      }
      const ordered = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
      paths[path] ??= {};
      paths[path][method.toLowerCase()] = {
        operationId: r.name,
        tags: [doc.tag],
        summary: doc.summary,
        description: doc.description,
        security: doc.auth ? [{ bearer: [] }] : [],
        parameters,
        ...(doc.body ? { requestBody: { required: true, content: { "application/json": { schema: schema(doc.body, "input") } } } } : {}),
        responses: ordered,
      };
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Help desk API",
      version: "1.0.0",
      summary: "Tickets from intake to resolution: triage, assignment, replies and notes, escalation to ops.",
      description: [
        "Requesters open tickets and follow them; agents triage, assign, reply, write internal notes and move tickets through their lifecycle.",
        "",
        "- **Sign-in**: `Authorization: Bearer <JWT>` (Entra ID; locally `npm run token`). A token with the `Tickets.Agent` or `Tickets.Admin` role is an agent's; without, a requester's.",
        "- **Errors** are `application/problem+json` (RFC 9457). Every answer carries `x-request-id`, and the caller's rate-limit state (`RateLimit`, `RateLimit-Policy`) once the token is verified.",
        "- **Concurrency**: single-ticket answers carry an `ETag`; send it back in `If-Match` on a write (412 if the ticket changed) or `If-None-Match` on a read (304 if it did not).",
        "- **Retries**: `POST /tickets` and `POST /tickets/{id}/comments` honour `Idempotency-Key`.",
      ].join("\n"),
    },
    servers: [{ url: serverUrl, description: "This API, as reached by the request for this document" }],
    security: [{ bearer: [] }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: componentRefs(components),
      responses: problems,
      headers,
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "An access token whose audience is the API (Entra ID v2.0 in Azure; the development issuer locally).",
        },
      },
    },
  };
}

/** The same document for another server URL: GET /api/openapi.json builds the rest once. */
export const servedAt = (document: ServedDocument, serverUrl: string): ServedDocument => ({
  ...document,
  servers: [{ ...document.servers[0]!, url: serverUrl }],
});

/**
 * The API's base URL as the client reached it, for `servers`: the origin of the request for
 * the document (the Host the client used: the local host's port, the app's azurewebsites.net
 * name, or a custom domain bound to the app) and the path up to the route. Azure's front end
 * ends TLS and says so in X-Forwarded-Proto, which it sets itself; a client that forges it,
 * or the Host, only misleads its own copy of the document.
 */
export function serverUrlOf(requestUrl: URL, forwardedProto: string | null, route: string): string {
  const proto = forwardedProto?.split(",")[0]?.trim().toLowerCase();
  const scheme = proto === "https" || proto === "http" ? `${proto}:` : requestUrl.protocol;
  const base = requestUrl.pathname.endsWith(`/${route}`) ? requestUrl.pathname.slice(0, -route.length - 1) : "/api";
  return `${scheme}//${requestUrl.host}${base}`;
}
