import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHost, type TestHost } from "../support/local-host.js";

const run = promisify(execFile);

/** The local host turns the development issuer on: what `npm run token` prints is accepted there. */
let t: TestHost;
beforeAll(async () => {
  t = await startTestHost();
});
afterAll(() => t.close());

/** `npm run -s token -- ...` exactly as the README writes it, with the host's LOCAL_DIR: its exit code and both outputs. */
async function npmToken(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run("npm", ["run", "-s", "token", "--", ...args], { env: { ...process.env, LOCAL_DIR: t.dir } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

const claims = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;

/** `npm run token -- ...`, as a developer runs it, with the host's LOCAL_DIR. */
async function npmRunToken(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "shared/local/token.ts", ...args], {
    env: { ...process.env, LOCAL_DIR: t.dir },
  });
  return stdout.trim();
}

describe("npm run token", () => {
  it("prints tokens the local host accepts: a requester's and an agent's, each with the delegated scope", async () => {
    const requester = await npmRunToken("--name", "Karen Karen", "--email", "karen.karen@example.com");
    const agent = await npmRunToken("--name", "Jane Doe", "--email", "jane.doe@example.com", "--role", "agent");
    const payload = JSON.parse(Buffer.from(requester.split(".")[1]!, "base64url").toString("utf8")) as { scp?: string };
    expect(payload.scp).toBe("access_as_user");

    const opened = await t.call(requester, "POST", "/tickets", { body: { subject: "Printer", description: "It jams." } });
    expect(opened.status).toBe(201);
    expect(opened.body.requester.email).toBe("karen.karen@example.com");
    expect((await t.call(agent, "GET", "/agents")).status).toBe(200);
    expect((await t.call(requester, "GET", "/agents")).status).toBe(403);
  }, 30_000);

  it("needs no option but the role: `npm run token -- --role admin` mints an admin the host accepts", async () => {
    const { code, stdout, stderr } = await npmToken("--role", "admin");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const token = stdout.trim();
    expect(claims(token)).toMatchObject({ name: "Local Admin", email: "local.admin@example.com", roles: ["Tickets.Admin"] });
    expect((await t.call(token, "GET", "/agents")).status).toBe(200);
    // Without --role, a requester; a name alone gives its email (and so its own caller id).
    const requester = claims((await npmToken("--name", "Ken Ken")).stdout.trim());
    expect(requester).toMatchObject({ name: "Ken Ken", email: "ken.ken@example.com", roles: [] });
  }, 30_000);

  it("--help prints the usage and exits 0; an unknown option or role says which, with the usage, and exits 2", async () => {
    const help = await npmToken("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run token -- \[--role requester\|agent\|admin\]/);
    expect(help.stdout).toContain("--email");
    const unknown = await npmToken("--roll", "agent");
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toMatch(/^Unknown option '--roll'/);
    expect(unknown.stderr).toContain("usage: npm run token");
    const role = await npmToken("--role", "boss");
    expect(role.code).toBe(2);
    expect(role.stderr).toMatch(/^--role must be one of requester, agent, admin, not "boss"/);
  }, 30_000);
});
