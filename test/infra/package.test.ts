import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { bootstrapCosmos, connectCosmos } from "../../shared/adapters/cosmos/connect.js";
import { startEmbeddedCosmos } from "../../shared/local/embedded-cosmos.js";

const run = promisify(execFile);

/** The entry point requires a token issuer wherever it runs; loading it fetches none of its keys. */
const ISSUER = {
  AUTH_ISSUER: "https://login.example.com/tenant/v2.0",
  AUTH_AUDIENCE: "api://helpdesk",
  AUTH_JWKS_URI: "http://127.0.0.1:9/never-fetched/keys",
};

/** npm run package: the artifact azd deploys registers exactly what the source does. */
type Registration = { name: string; bindings: Record<string, unknown> };
const loaded = new Map<string, Promise<Registration[]>>();
/** What an entry point registers, loaded once per entry (a child process each: a fresh load). */
const registrations = (entry: string): Promise<Registration[]> => {
  let result = loaded.get(entry);
  if (!result) {
    result = run(process.execPath, ["--import", "tsx", "test/support/load-entry.ts", entry], { env: { ...process.env, ...ISSUER } }).then(
      ({ stdout }) => JSON.parse(stdout) as Registration[],
    );
    loaded.set(entry, result);
  }
  return result;
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
    // The docs page's Swagger UI files, with their licence: no bundle holds them.
    for (const file of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"]) {
      expect((await stat(`package/swagger-ui-dist/${file}`)).size, file).toBeGreaterThan(0);
    }
  });

  it("the packaged entry point registers the same functions and bindings as the source", async () => {
    const packaged = await registrations("package/dist/functions/index.js");
    const source = await registrations("functions/index.ts");
    expect(packaged.length).toBeGreaterThan(10);
    expect(packaged).toEqual(source);
  }, 30_000);

  it("with a channel's Key Vault reference unresolved, the packaged entry point in Azure registers every function and serves /api/health and the docs page", async () => {
    // The store as infra/ leaves it: database and containers made (the app makes none in Azure).
    const cosmos = await startEmbeddedCosmos();
    const client = await connectCosmos({ endpoint: cosmos.endpoint, key: "not-checked" });
    await bootstrapCosmos(client, "helpdesk");
    client.dispose();
    const env = {
      ...process.env,
      WEBSITE_SITE_NAME: "helpdesk-test", // what makes the app take itself for inside Azure
      COSMOS_ENDPOINT: cosmos.endpoint,
      COSMOS_KEY: "not-checked",
      AUTH_ISSUER: "https://login.example.com/tenant/v2.0",
      AUTH_AUDIENCE: "api://helpdesk",
      AUTH_JWKS_URI: "https://login.example.com/tenant/keys",
      SERVICE_BUS_NAMESPACE: "helpdesk.servicebus.example.com",
      // The requester emails, as infra/ sets them (nothing is sent here).
      EMAIL_ENDPOINT: "https://acs-helpdesk.europe.communication.azure.com",
      EMAIL_SENDER: "DoNotReply@00000000-0000-0000-0000-000000000000.azurecomm.net",
      // What App Service leaves in a setting whose reference it could not resolve.
      TEAMS_WEBHOOK_URL: "@Microsoft.KeyVault(SecretUri=https://x.vault.azure.net/secrets/y)",
    };
    // A copy of package/ with no node_modules above it, as azd deploys it: whatever the entry
    // point finds (the docs page's files) must be in the package itself.
    const deployed = await mkdtemp(join(tmpdir(), "helpdesk-package-"));
    await cp("package", deployed, { recursive: true });
    try {
      const { stdout } = await run(
        process.execPath,
        ["--import", "tsx", "test/support/serve-entry.ts", join(deployed, "dist/functions/index.js")],
        { env },
      );
      const served = JSON.parse(stdout) as {
        loadError: string | null;
        names: string[];
        health: { status: number; body: unknown };
        docs: { status: number; contentType: string; files: { path: string; status: number; contentType: string; bytes: number }[] };
        notify: string;
      };
      expect(served.loadError).toBeNull();
      const source = await registrations("functions/index.ts");
      expect(served.names).toEqual(source.map((r) => r.name));
      expect(served.names).toHaveLength(38);
      expect(served.health).toEqual({ status: 200, body: { status: "ok", store: "ok" } });
      expect(served.docs).toEqual({
        status: 200,
        contentType: "text/html; charset=utf-8",
        files: [
          { path: "/api/docs/swagger-ui.css", status: 200, contentType: "text/css; charset=utf-8", bytes: expect.any(Number) },
          { path: "/api/docs/swagger-ui-bundle.js", status: 200, contentType: "text/javascript; charset=utf-8", bytes: expect.any(Number) },
          { path: "/api/docs/docs.js", status: 200, contentType: "text/javascript; charset=utf-8", bytes: expect.any(Number) },
        ],
      });
      expect(served.docs.files[1]!.bytes).toBeGreaterThan(1_000_000);
      // With no usable channel left, the notifier fails, so that messages dead-letter and the dead-letter alert reaches a person.
      expect(served.notify).toMatch(/No alert channel is usable/);
    } finally {
      await cosmos.close();
      await rm(deployed, { recursive: true, force: true });
    }
  }, 30_000);
});
