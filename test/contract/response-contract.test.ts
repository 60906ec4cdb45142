import { describe, expect, it } from "vitest";
import { compileEveryResponseSchema, ContractViolation, validateResponse } from "../support/contract.js";

/**
 * The check every e2e response goes through (support/contract.ts): it must be able to
 * fail, or the e2e suites prove nothing about the document.
 */

const JSON_TYPE = "application/json; charset=utf-8";
const PROBLEM_TYPE = "application/problem+json; charset=utf-8";
const url = (path: string) => `http://localhost:7071/api${path}`;

const ticket = () => ({
  id: "t_0123456789abcdef",
  number: "HD-1001",
  subject: "Printer",
  description: "It jams",
  status: "open",
  priority: "normal",
  severity: null,
  category: null,
  requester: { id: "u-karen", name: "Karen Karen", email: "karen.karen@example.com" },
  assignee: null,
  resolution: null,
  createdAt: "2024-05-01T09:00:00.000Z",
  updatedAt: "2024-05-01T09:00:00.000Z",
  resolvedAt: null,
  closedAt: null,
  escalation: null,
});

const notFound = { type: "https://helpdesk.example/problems/not-found", title: "Not found", status: 404, detail: "No such ticket." };

const rejection = (f: () => void): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ContractViolation);
    return (e as Error).message;
  }
  throw new Error("the response was accepted");
};

describe("validateResponse", () => {
  it("compiles every response schema the document declares, strictly", () => {
    expect(compileEveryResponseSchema()).toBeGreaterThan(40);
  });

  it("accepts a ticket and a problem as GET /tickets/{id} declares them", () => {
    validateResponse("GET", url("/tickets/t_0123456789abcdef"), 200, JSON_TYPE, ticket());
    validateResponse("GET", url("/tickets/t_0123456789abcdef"), 404, PROBLEM_TYPE, notFound);
  });

  it("rejects a body missing a required field, or carrying one the schema does not have", () => {
    const { number: _, ...withoutNumber } = ticket();
    expect(rejection(() => validateResponse("GET", url("/tickets/t_1"), 200, JSON_TYPE, withoutNumber))).toMatch(
      /getTicket \(GET \/tickets\/\{id\}\) application\/json: the body does not match[\s\S]*required property 'number'/,
    );
    expect(rejection(() => validateResponse("GET", url("/tickets/t_1"), 200, JSON_TYPE, { ...ticket(), version: 3 }))).toMatch(
      /must NOT have additional properties.*"additionalProperty":"version"/,
    );
    expect(rejection(() => validateResponse("GET", url("/tickets/t_1"), 200, JSON_TYPE, { ...ticket(), createdAt: "yesterday" }))).toMatch(
      /\/createdAt must match format "date-time"/,
    );
  });

  it("rejects a status the operation does not declare, naming the operation", () => {
    expect(rejection(() => validateResponse("GET", url("/tickets/t_1"), 409, PROBLEM_TYPE, { ...notFound, status: 409 }))).toMatch(
      /getTicket \(GET \/tickets\/\{id\}\) does not declare status 409/,
    );
    expect(rejection(() => validateResponse("GET", url("/openapi.json"), 503, PROBLEM_TYPE, { ...notFound, status: 503 }))).toMatch(
      /openApi .* does not declare status 503/,
    );
  });

  it("rejects a body in a content type the status does not declare", () => {
    expect(rejection(() => validateResponse("GET", url("/tickets/t_1"), 404, JSON_TYPE, notFound))).toMatch(
      /declares application\/problem\+json for 404, the answer is application\/json/,
    );
    expect(rejection(() => validateResponse("POST", url("/tickets"), 201, null, ""))).toMatch(/without a content type/);
  });

  it("holds a path or method no operation has to the host's own 404 in problem+json", () => {
    validateResponse("GET", url("/nothing-here"), 404, PROBLEM_TYPE, { ...notFound, detail: "No such route." });
    validateResponse("DELETE", url("/agents"), 404, PROBLEM_TYPE, { ...notFound, detail: "No such route." });
    expect(rejection(() => validateResponse("GET", url("/nothing-here"), 200, JSON_TYPE, {}))).toMatch(
      /no operation has this path and method/,
    );
    expect(rejection(() => validateResponse("GET", url("/nothing-here"), 404, PROBLEM_TYPE, { detail: "gone" }))).toMatch(
      /required property 'title'/,
    );
  });

  it("leaves the CORS preflight alone: the document hides it", () => {
    validateResponse("OPTIONS", url("/tickets"), 204, null, null);
  });
});
