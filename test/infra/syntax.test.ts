import { describe, expect, it } from "vitest";
import { checkSyntax } from "../../infra/verify/parse.js";
import { codes, fixture, inline } from "./support.js";

describe("infra check: Bicep syntax", () => {
  it("reports a syntax error with its line and column", async () => {
    const problems = checkSyntax([await fixture("schema", "syntax-error.bicep")]);

    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.code === "syntax-error")).toBe(true);
    // `location = 'westeurope'` on line 4.
    expect(problems[0]).toMatchObject({ line: 4 });
    expect(problems[0]?.column).toBeGreaterThan(0);
  });

  it("accepts a well-formed file", async () => {
    expect(checkSyntax([await fixture("schema", "unknown-property.bicep")])).toEqual([]);
  });

  it("flags a call that begins an array element, which the grammar misreads", async () => {
    const file = await inline("var settings = [\n  first(a)\n  last(b)\n]\n");

    expect(codes(checkSyntax([file]))).toEqual(["ambiguous-call-in-array@2"]);
  });
});
