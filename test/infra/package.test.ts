import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);

/** npm run package: the artifact azd deploys registers exactly what the source does. */
const registrations = async (entry: string) => {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "test/support/load-entry.ts", entry]);
  return JSON.parse(stdout) as { name: string; bindings: Record<string, unknown> }[];
};

beforeAll(async () => {
  await run("npm", ["run", "-s", "package"]);
}, 60_000);

describe("npm run package", () => {
  it("builds package/ with the bundle, host.json and a package.json with nothing to install", async () => {
    const pkg = JSON.parse(await readFile("package/package.json", "utf8"));
    expect(pkg).toEqual({
      name: "helpdesk-api",
      version: expect.any(String),
      private: true,
      type: "module",
      main: "dist/functions/index.js",
    });
    expect(JSON.parse(await readFile("package/host.json", "utf8")).extensionBundle.version).toBe("[4.*, 5.0.0)");
    expect((await stat("package/dist/functions/index.js")).size).toBeGreaterThan(0);
  });

  it("the packaged entry point registers the same functions and bindings as the source", async () => {
    const packaged = await registrations("package/dist/functions/index.js");
    const source = await registrations("functions/index.ts");
    expect(packaged.length).toBeGreaterThan(10);
    expect(packaged).toEqual(source);
  }, 30_000);
});
