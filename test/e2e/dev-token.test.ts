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
});
