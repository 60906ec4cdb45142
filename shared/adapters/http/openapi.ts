import { z } from "zod";
import { Problem, PROBLEMS } from "./problem.js";

/**
 * OpenAPI 3.1 from the route table: the request and response schemas are the zod
 * objects that validate, turned into JSON Schema by zod itself, so the document
 * cannot drift from what the API accepts.
 */
export interface RouteDoc {
  summary: string;
  auth: boolean;
  body?: z.ZodType;
  query?: z.ZodObject;
  ok: DocumentedResponse;
  /**
   * Answers besides `ok` that carry a body of the route's own rather than problem+json
   * (health's 503: degraded, and why).
   */
  also?: DocumentedResponse[];
  /** Problem+json statuses besides the common ones (400, 401, 403, 404, 500, 503 where they apply). */
  errors?: number[];
  headers?: string[];
  /** Left out of the document (the CORS preflight). */
  hidden?: boolean;
}

export interface DocumentedResponse {
  status: number;
  schema?: z.ZodType;
  /** The schema's media type; application/json unless said (the docs page is text/html). */
  contentType?: string;
  description: string;
}

/**
 * What GET /api/openapi.json answers, as far as a client relies on it: the fields of an
 * OpenAPI 3.1 document that this one always has (the rest is left open).
 */
export const OpenApiJson = z
  .looseObject({
    openapi: z.string().regex(/^3\.1\.\d+$/),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  })
  .meta({ id: "OpenApiDocument", description: "This OpenAPI 3.1 document." });

export interface DocumentedRoute {
  name: string;
  route: string;
  methods: string[];
  doc: RouteDoc;
}

const HEADERS: Record<string, { description: string; schema: { type: "string" } }> = {
  "If-Match": { description: "Only apply the change if the ticket still has this ETag (412 otherwise).", schema: { type: "string" } },
  "If-None-Match": {
    description: "Answer 304, with no body, if the caller's ETag is still this one (nothing they can see has changed).",
    schema: { type: "string" },
  },
  "Idempotency-Key": { description: "Retrying with the same key and body replays the first response.", schema: { type: "string" } },
};

/** zod names its $refs `#/$defs/X`; in an OpenAPI document they live under components.schemas. */
const componentRefs = (json: object): Record<string, unknown> =>
  JSON.parse(JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;

const statusTitle = (status: number) => Object.values(PROBLEMS).find((p) => p.status === status)?.title ?? "Error";

export function openApiDocument(routes: DocumentedRoute[], serverUrl = "/api") {
  // Named schemas (zod .meta({ id })) go to components.schemas once, and are $ref'd from
  // the operations: a "#/$defs/..." left inside an operation would resolve against the
  // OpenAPI document's root, where it does not exist.
  const components: Record<string, unknown> = {};
  const schema = (s: z.ZodType, io: "input" | "output") => {
    const {
      $schema: _,
      $defs,
      ...json
    } = z.toJSONSchema(s, { io, unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown> & {
      $defs?: Record<string, unknown>;
    };
    Object.assign(components, $defs ?? {});
    return componentRefs(json);
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes.filter((route) => !route.doc.hidden)) {
    const path = `/${r.route}`;
    for (const method of r.methods) {
      const { doc } = r;
      const parameters: unknown[] = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1],
        in: "path",
        required: true,
        schema: { type: "string" },
      }));
      if (doc.query) {
        for (const [name, field] of Object.entries(doc.query.shape)) {
          parameters.push({ name, in: "query", required: false, schema: schema(field as z.ZodType, "input") });
        }
      }
      for (const h of doc.headers ?? []) parameters.push({ name: h, in: "header", required: false, ...HEADERS[h] });
      const responses: Record<string, unknown> = {};
      for (const answer of [doc.ok, ...(doc.also ?? [])]) {
        responses[answer.status] = {
          description: answer.description,
          ...(answer.schema
            ? { content: { [answer.contentType ?? "application/json"]: { schema: schema(answer.schema, "output") } } }
            : {}),
        };
      }
      const errors = new Set([
        // Every route spends its caller's (or client address's) bucket.
        429,
        ...(doc.auth ? [401, 403, 404, 503] : []),
        ...(doc.body || doc.query ? [400] : []),
        ...(doc.errors ?? []),
        500,
      ]);
      for (const status of [...errors].sort()) {
        if (responses[status]) throw new Error(`${r.name}: ${status} is documented both as its own answer and as problem+json`);
        responses[status] = {
          description: statusTitle(status),
          content: { "application/problem+json": { schema: schema(Problem, "output") } },
        };
      }
      paths[path] ??= {};
      paths[path][method.toLowerCase()] = {
        operationId: r.name,
        summary: doc.summary,
        ...(doc.auth ? { security: [{ bearer: [] }] } : { security: [] }),
        parameters,
        ...(doc.body ? { requestBody: { required: true, content: { "application/json": { schema: schema(doc.body, "input") } } } } : {}),
        responses,
      };
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Help desk API",
      version: "1.0.0",
      description: "Ticket lifecycle: intake, triage, assignment, replies and notes, resolution.",
    },
    servers: [{ url: serverUrl }],
    components: {
      schemas: componentRefs(components),
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
    paths,
  };
}
