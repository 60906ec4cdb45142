import { describe, expect, it } from "vitest";
import { openApiDocument, serverUrlOf, TAGS } from "../../shared/adapters/http/openapi.js";
import { ROUTE_SPECS } from "../../shared/app/routes.js";
import { ENTRY_TYPES } from "../../shared/tickets/domain/model.js";

/** GET /api/openapi.json: a document a client generator can use as it is. */
interface Ref {
  $ref: string;
}
interface Parameter {
  name: string;
  in: string;
  required: boolean;
  description: string;
  style?: string;
  explode?: boolean;
  schema: { type?: string; items?: { enum?: string[] }; enum?: string[]; default?: unknown };
}
interface Response {
  description: string;
  headers?: Record<string, Ref>;
  content?: Record<string, { schema: unknown }>;
}
interface Operation {
  operationId: string;
  tags: string[];
  summary: string;
  description: string;
  parameters: Parameter[];
  requestBody?: unknown;
  responses: Record<string, Response | Ref>;
}
const doc = openApiDocument(ROUTE_SPECS, "https://helpdesk.invalid/api") as unknown as {
  openapi: string;
  servers: { url: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, { additionalProperties?: unknown; required?: string[]; oneOf?: Ref[]; properties?: Record<string, unknown> }>;
    responses: Record<string, Response>;
    headers: Record<string, { required: boolean; schema: unknown }>;
  };
};

const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
const op = (method: string, path: string) => doc.paths[path]![method]!;
const response = (r: Response | Ref): Response => ("$ref" in r ? doc.components.responses[r.$ref.split("/").pop()!]! : r);
/** The headers an answer declares, by name, with whether each is required. */
const headersOf = (r: Response | Ref) =>
  Object.fromEntries(
    Object.entries(response(r).headers ?? {}).map(([name, ref]) => [name, doc.components.headers[ref.$ref.split("/").pop()!]!.required]),
  );
const param = (method: string, path: string, name: string) => op(method, path).parameters.find((p) => p.name === name);

describe("OpenAPI document", () => {
  it("has one operation per route and method, named after the function", () => {
    const named = operations.map(({ path, method, op }) => `${method.toUpperCase()} ${path} ${op.operationId}`);
    const documented = ROUTE_SPECS.filter((r) => !r.doc.hidden);
    expect(documented.length).toBe(ROUTE_SPECS.length - 2); // all but the CORS preflight and the docs page's files
    expect(named.sort()).toEqual(documented.flatMap((r) => r.methods.map((m) => `${m} /${r.route} ${r.name}`)).sort());
  });

  it("names an absolute server: the API's base URL", () => {
    expect(doc.servers).toEqual([{ url: "https://helpdesk.invalid/api", description: expect.any(String) }]);
  });

  it("takes the server from the request for the document: its origin, the path up to the route, and the platform's scheme", () => {
    expect(serverUrlOf(new URL("http://localhost:7071/api/openapi.json"), null, "openapi.json")).toBe("http://localhost:7071/api");
    expect(serverUrlOf(new URL("http://helpdesk.azurewebsites.net/api/openapi.json"), "https", "openapi.json")).toBe(
      "https://helpdesk.azurewebsites.net/api",
    );
    expect(serverUrlOf(new URL("https://desk.example.org/v1/openapi.json"), "ftp", "openapi.json")).toBe("https://desk.example.org/v1");
  });

  it("tags, summarises and describes every operation, with tags the document defines", () => {
    expect(doc.tags.map((t) => t.name)).toEqual(Object.keys(TAGS));
    for (const { path, method, op } of operations) {
      expect(op.tags, `${method} ${path}`).toHaveLength(1);
      expect(Object.keys(TAGS)).toContain(op.tags[0]);
      expect(op.summary.length, `${method} ${path}`).toBeGreaterThan(3);
      expect(op.description.length, `${method} ${path}`).toBeGreaterThan(10);
    }
  });

  it("resolves every $ref inside the document", () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const [, , kind, name] = ref.split("/");
      expect(ref).toMatch(/^#\/components\/(schemas|responses|headers)\//);
      expect((doc.components as Record<string, Record<string, unknown>>)[kind!]![name!], ref).toBeDefined();
    }
  });

  it("describes request bodies as the validation does: unknown fields are refused, a field with a default is optional", () => {
    const open = doc.components.schemas.OpenTicket!;
    expect(open.additionalProperties).toBe(false);
    expect(open.required).toEqual(["subject", "description"]);
    expect(doc.components.schemas.Comment!.required).toEqual(["body"]);
    expect(doc.components.schemas.Comment!.properties!.visibility).toMatchObject({ default: "public" });
  });

  it("lists every status each operation answers, as its route takes it", () => {
    const statuses = (method: string, path: string) => Object.keys(op(method, path).responses);
    expect(statuses("post", "/tickets")).toEqual(["201", "400", "401", "403", "409", "413", "415", "422", "429", "500", "503"]);
    expect(statuses("get", "/tickets")).toEqual(["200", "400", "401", "403", "429", "500", "503"]);
    expect(statuses("get", "/tickets/{id}")).toEqual(["200", "304", "401", "404", "429", "500", "503"]);
    expect(statuses("get", "/tickets/{id}/timeline")).toEqual(["200", "304", "400", "401", "404", "429", "500", "503"]);
    expect(statuses("patch", "/tickets/{id}")).toEqual(["200", "400", "401", "403", "404", "412", "413", "415", "429", "500", "503"]);
    expect(statuses("post", "/tickets/{id}/comments")).toEqual([
      "201",
      "400",
      "401",
      "403",
      "404",
      "409",
      "412",
      "413",
      "415",
      "422",
      "429",
      "500",
      "503",
    ]);
    expect(statuses("delete", "/tickets/{id}/assignee")).toEqual(["200", "401", "403", "404", "412", "429", "500", "503"]);
    expect(statuses("get", "/health")).toEqual(["200", "429", "500", "503"]);
  });

  it("declares the request headers each operation reads", () => {
    const headers = (method: string, path: string) =>
      op(method, path)
        .parameters.filter((p) => p.in === "header")
        .map((p) => p.name);
    expect(headers("post", "/tickets")).toEqual(["Idempotency-Key", "x-request-id"]);
    expect(headers("post", "/tickets/{id}/comments")).toEqual(["If-Match", "Idempotency-Key", "x-request-id"]);
    expect(headers("get", "/tickets/{id}")).toEqual(["If-None-Match", "x-request-id"]);
    expect(headers("get", "/tickets/{id}/timeline")).toEqual(["If-None-Match", "x-request-id"]);
    for (const method of ["patch"]) expect(headers(method, "/tickets/{id}")).toEqual(["If-Match", "x-request-id"]);
    for (const { op } of operations) expect(op.parameters.some((p) => p.in === "header" && p.name === "x-request-id")).toBe(true);
  });

  it("declares the response headers of each answer, and which are always there", () => {
    expect(headersOf(op("post", "/tickets").responses["201"]!)).toEqual({
      "x-request-id": true,
      RateLimit: true,
      "RateLimit-Policy": true,
      ETag: true,
      Location: true,
      "Idempotent-Replayed": false,
    });
    expect(headersOf(op("get", "/tickets/{id}").responses["304"]!)).toMatchObject({ ETag: true, "x-request-id": true });
    expect(headersOf(op("get", "/tickets/{id}").responses["401"]!)).toEqual({ "x-request-id": true, "WWW-Authenticate": true });
    expect(headersOf(op("get", "/tickets").responses["429"]!)).toMatchObject({ "Retry-After": true, RateLimit: true });
    expect(headersOf(op("get", "/tickets").responses["503"]!)).toMatchObject({ "Retry-After": true, RateLimit: false });
    expect(headersOf(op("get", "/health").responses["503"]!)).toMatchObject({ "Retry-After": true, RateLimit: true });
    expect(headersOf(op("get", "/agents").responses["200"]!)).not.toHaveProperty("ETag");
  });

  it("gives every query filter its enum: status, priority, severity and sla as comma-separated lists", () => {
    for (const [name, values] of [
      ["status", ["open", "in_progress", "on_hold", "resolved", "closed"]],
      ["priority", ["low", "normal", "high", "emergency"]],
      ["severity", ["SEV-A", "SEV-B", "SEV-C", "SEV-D"]],
      ["sla", ["breached", "warning", "running"]],
    ] as const) {
      expect(param("get", "/tickets", name)).toMatchObject({
        in: "query",
        required: false,
        style: "form",
        explode: false,
        schema: { type: "array", items: { enum: values } },
      });
    }
    expect(param("get", "/tickets", "sort")!.schema).toMatchObject({
      enum: ["priority", "updated", "created", "due"],
      default: "priority",
    });
    expect(param("get", "/tickets", "updatedSince")!.schema).toMatchObject({ type: "string", format: "date-time" });
    expect(param("get", "/tickets", "number")!.schema).toMatchObject({ type: "string" });
    expect(param("get", "/tickets/{id}", "id")).toMatchObject({ in: "path", required: true, schema: { pattern: "^[0-9a-f]{24}$" } });
  });

  it("describes timeline entries as a union discriminated by type, each type with its own data", () => {
    const variants = doc.components.schemas.TimelineEntry!.oneOf!.map((r) => doc.components.schemas[r.$ref.split("/").pop()!]!);
    const types = variants.map((v) => (v.properties!.type as { const: string }).const);
    expect(types).toEqual([...ENTRY_TYPES]);
    for (const v of variants) {
      expect(v.additionalProperties).toBe(false);
      expect(v.properties!.data).toEqual({ $ref: expect.stringMatching(/^#\/components\/schemas\/\w+Data$/) });
    }
    expect(doc.components.schemas.CommentData!.required).toEqual(["body"]);
    expect(doc.components.schemas.StatusChangedData!.required).toEqual(["from", "to"]);
  });

  it("says what every answer carries: each response but 304 and a redirect declares its content", () => {
    for (const { path, method, op } of operations)
      for (const [status, r] of Object.entries(op.responses))
        if (status === "304" || status === "302") expect(response(r).content, `${method} ${path} ${status}`).toBeUndefined();
        else expect(response(r).content, `${method} ${path} ${status}`).toBeDefined();
  });

  it("documents health's 503 as the Health body it is, not a problem", () => {
    const health = op("get", "/health").responses;
    expect(response(health["503"]!).content).toEqual({ "application/json": { schema: { $ref: "#/components/schemas/Health" } } });
    expect(response(health["200"]!).content).toEqual(response(health["503"]!).content);
  });
});
