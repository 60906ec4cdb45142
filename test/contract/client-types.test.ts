import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { CLIENT_TYPES_FILE, clientTypes } from "../../shared/local/api-contract.js";

/**
 * shared/client/api-types.ts is generated (npm run client:types) and committed, so that a
 * web app, and test/e2e/typed-client.test.ts, type-check against it. A change to the
 * contract that was not regenerated fails here, naming the first line that differs.
 */
describe("the generated client types", () => {
  it("are what npm run client:types writes from the current document", async () => {
    const [committed, fresh] = await Promise.all([readFile(CLIENT_TYPES_FILE, "utf8"), clientTypes()]);
    if (committed === fresh) return;
    const was = committed.split("\n");
    const is = fresh.split("\n");
    const line = is.findIndex((text, i) => text !== was[i]);
    expect.fail(
      `shared/client/api-types.ts is stale: run npm run client:types. First difference at line ${line + 1}:\n` +
        `  committed: ${was[line] ?? "(end of file)"}\n  generated: ${is[line] ?? "(end of file)"}`,
    );
  });
});
