import { describe, expect, it } from "vitest";
import { cosmosFailure } from "../../shared/adapters/cosmos/errors.js";
import { Failure } from "../../shared/kernel/failure.js";

/** Cosmos DB's errors as the domain's failure kinds (errors.ts). */
describe("cosmosFailure", () => {
  it.each([401, 403])("makes %s (the app's identity refused, as while its data role propagates) a 503 with the cause logged", (code) => {
    const f = cosmosFailure(
      Object.assign(new Error("Request blocked by Auth x : principal has no role"), { code, substatus: 5301 }),
    ) as Failure;
    expect(f).toBeInstanceOf(Failure);
    expect(f.kind).toBe("unavailable");
    expect(f.retryAfter).toBe(30);
    expect(String((f.cause as Error).message)).toMatch(new RegExp(`refused the request \\(${code}/5301\\).*principal has no role`));
  });

  it.each([
    [409, "exists"],
    [412, "stale"],
    [429, "unavailable"],
    [503, "unavailable"],
    ["ECONNREFUSED", "unavailable"],
  ] as const)("makes %s %s", (code, kind) => {
    expect((cosmosFailure(Object.assign(new Error("x"), { code })) as Failure).kind).toBe(kind);
  });

  it("leaves anything else as it is: a bug is a 500", () => {
    const e = Object.assign(new Error("bad request"), { code: 400 });
    expect(cosmosFailure(e)).toBe(e);
  });
});
