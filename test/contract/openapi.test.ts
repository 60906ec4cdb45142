import { describe, expect, it } from "vitest";
import { ROUTE_SPECS } from "../../shared/app/routes.js";
import { openApiDocument } from "../../shared/adapters/http/openapi.js";

/** GET /api/openapi.json: a document a client generator can use as it is. */
const doc = openApiDocument(ROUTE_SPECS) as {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      { operationId: string; requestBody?: unknown; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }
    >
  >;
  components: { schemas: Record<string, { additionalProperties?: unknown; required?: string[] }> };
};

describe("OpenAPI document", () => {
  it("has one operation per route and method, named after the function", () => {
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([m, op]) => `${m.toUpperCase()} ${path} ${op.operationId}`),
    );
    const documented = ROUTE_SPECS.filter((r) => !r.doc.hidden);
    expect(documented.length).toBe(ROUTE_SPECS.length - 2); // all but the CORS preflight and the docs page's files
    expect(operations.sort()).toEqual(documented.flatMap((r) => r.methods.map((m) => `${m} /${r.route} ${r.name}`)).sort());
  });

  it("resolves every $ref inside the document", () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.split("/").pop()!], ref).toBeDefined();
    }
  });

  it("describes request bodies as the validation does: unknown fields are refused", () => {
    const open = doc.components.schemas.OpenTicket!;
    expect(open.additionalProperties).toBe(false);
    expect(open.required).toEqual(["subject", "description"]);
    expect(doc.paths["/tickets"]!.post!.responses["422"]).toBeDefined();
  });

  it("says what every answer carries: each response declares its content, but a 304, which has none", () => {
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        for (const [status, response] of Object.entries(op.responses))
          if (status === "304") expect(response.content, `${method} ${path} ${status}`).toBeUndefined();
          else expect(response.content, `${method} ${path} ${status}`).toBeDefined();
  });

  it("documents health's 503 as the Health body it is, not a problem", () => {
    const health = doc.paths["/health"]!.get!.responses;
    expect(health["503"]!.content).toEqual({ "application/json": { schema: { $ref: "#/components/schemas/Health" } } });
    expect(health["200"]!.content).toEqual(health["503"]!.content);
  });
});
