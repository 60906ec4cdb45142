import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { apiUrlFile } from "../../shared/local/api-url-file.js";
import { signDevToken } from "../../shared/local/dev-issuer.js";
import { alive, descendants, exited, freePort, listening, printed } from "../support/processes.js";

/**
 * `npm start` as a developer runs it, in a process of its own: how it stops, and how it
 * fails to start. LOCAL_STORE=memory and a LOCAL_DIR of its own keep it off the developer's
 * .local/ whichever way the local host keeps its data.
 */
const dirs: string[] = [];
async function env(port: number): Promise<NodeJS.ProcessEnv> {
  const dir = await mkdtemp(join(tmpdir(), "helpdesk-npm-start-"));
  dirs.push(dir);
  return { ...process.env, PORT: String(port), LOCAL_DIR: dir, LOCAL_STORE: "memory" };
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("npm start", () => {
  it("stops with the SIGTERM sent to the npm process: drains, frees the port, leaves no process behind", async () => {
    const port = await freePort();
    const npm = spawn("npm", ["start"], { env: await env(port), stdio: ["ignore", "pipe", "pipe"] });
    const below: number[] = [];
    try {
      const out = await printed(npm, "stdout", /CORS: /, 60_000); // the banner's last line: it serves
      expect(out).toContain(`Help desk API on http://localhost:${port}/api`);
      expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(200);
      // A query too: the bundle's embedded store answers them from its replica (a worker thread).
      const agent = await signDevToken(dirs.at(-1)!, { name: "Jane Doe", email: "jane.doe@example.com", role: "agent" });
      expect((await fetch(`http://127.0.0.1:${port}/api/tickets`, { headers: { authorization: `Bearer ${agent}` } })).status).toBe(200);
      // Where it listens, for a shell to find (the README's curl block); gone once it stops.
      const urlFile = apiUrlFile(dirs.at(-1)!);
      expect(await readFile(urlFile, "utf8")).toBe(`http://localhost:${port}/api\n`);
      below.push(...(await descendants(npm.pid!)));
      expect(below.length).toBeGreaterThan(0);

      const stopping = printed(npm, "stdout", /SIGTERM: shutting down/);
      npm.kill("SIGTERM"); // the npm process only, as `kill <pid>` does: not its process group
      await stopping; // the signal reached the host itself
      expect(await exited(npm)).toEqual({ code: 0, signal: null });
      expect(await listening(port)).toBe(false);
      expect(below.filter(alive)).toEqual([]);
      expect(existsSync(urlFile)).toBe(false);
    } finally {
      for (const pid of [npm.pid!, ...below].filter(alive)) process.kill(pid, "SIGKILL");
    }
  }, 90_000);

  it("on a port in use, says so in one line (the port, how to pick another) and exits 1", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", () => resolve()));
    const { port } = taken.address() as { port: number };
    try {
      const host = spawn(process.execPath, ["--import", "tsx", "shared/local/main.ts"], {
        env: await env(port),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      host.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      expect(await exited(host)).toEqual({ code: 1, signal: null });
      expect(stderr.trim().split("\n")).toEqual([
        `Port ${port} is in use (another npm start?). Stop what listens there, or pick another port: PORT=${port === 7300 ? 7301 : 7300} npm start`,
      ]);
    } finally {
      taken.close();
    }
  }, 30_000);
});
