import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

/**
 * The Functions entry point trusts no development issuer anywhere: off Azure too, it
 * requires AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URI and fails at load naming them.
 * Loaded in a child process (a fresh load, in the environment given), as the worker would.
 */
describe("the Functions entry point's token issuer", () => {
  it("without AUTH_*, off Azure, fails to load with a message naming the three settings", async () => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith("AUTH_") && !name.startsWith("WEBSITE_")),
    );
    const { stdout } = await run(process.execPath, ["--import", "tsx", "test/support/serve-entry.ts", "functions/index.ts"], { env });
    const served = JSON.parse(stdout) as { loadError: string | null; names: string[] };
    expect(served.loadError).toMatch(/AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URI/);
    expect(served.names).toEqual([]); // nothing registered: no route that could trust a key under .local/
  }, 30_000);
});
