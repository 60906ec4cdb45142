import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeApiUrl } from "../../shared/local/api-url-file.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * The README's curl block ("With curl"), as a developer pastes it into bash: taken from
 * README.md itself, so the README cannot drift from what the API answers. It runs twice
 * against one host; each curl's status must be what its `# → NNN` says, in order.
 */
const readme = readFileSync("README.md", "utf8");
const section = readme.slice(readme.indexOf("### With curl"));
const block = /```bash\n([\s\S]*?)```/.exec(section)![1]!;
/** What the README says each curl answers, in the order they run. */
const promised = [...block.matchAll(/# → (\d{3})/g)].map((m) => Number(m[1]));

/**
 * curl as the README's, with its status written to stderr after the body. The README's
 * commands use no --write-out of their own but `\n`, which this one ends with too.
 */
const WRAPPER = `set -euo pipefail\ncurl() { command curl "$@" --write-out '\\n%{stderr}HTTP %{http_code}\\n'; }\n`;

let t: TestHost;
beforeAll(async () => {
  t = await startTestHost();
  await writeApiUrl(t.dir, t.url);
  // Another agent the directory lists first (by name): JANE_ID must be Jane's, not the first one's.
  expect((await t.call(await t.token(PEOPLE.admin), "GET", "/agents")).status).toBe(200);
});
afterAll(() => t.close());

function withoutPort(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { PORT: _port, ...rest } = env;
  return rest;
}

async function paste(): Promise<{ code: number | null; stdout: string; statuses: number[]; stderr: string }> {
  const bash = spawn("bash", ["-c", WRAPPER + block], {
    // npm run token signs with the host's key; the block finds the API where npm start writes it
    // (api-url-file.ts; npm-start.test.ts sees it written). No PORT: the block must not need it.
    env: { ...withoutPort(process.env), LOCAL_DIR: t.dir, LOCAL_STORE: "memory" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  bash.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  bash.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => bash.once("exit", resolve));
  const statuses = [...stderr.matchAll(/^HTTP (\d{3})$/gm)].map((m) => Number(m[1]));
  return { code, stdout, statuses, stderr };
}

interface Ticket {
  id: string;
  status: string;
  priority: string;
  category: string | null;
  assignee: { name: string } | null;
}

async function karensTickets(): Promise<Ticket[]> {
  const res = await t.call(await t.token(PEOPLE.jane), "GET", "/tickets?limit=100");
  return (res.body.items as (Ticket & { requester: { email: string } })[]).filter((x) => x.requester.email === PEOPLE.karen.email);
}

describe("the README's curl block", () => {
  it("runs as pasted, twice in a row, each step answering as the README says", async () => {
    expect(promised.length).toBeGreaterThan(10);
    for (const run of [1, 2]) {
      const { code, stdout, statuses, stderr } = await paste();
      expect({ run, code, statuses }, stderr).toEqual({ run, code: 0, statuses: promised });
      // The retry with the same Idempotency-Key replays the first answer.
      expect(stdout).toMatch(/^idempotent-replayed: true\r?$/im);
      // One new ticket a run (a fresh key each time, and the retry made none), worked as the README says.
      const tickets = await karensTickets();
      expect(tickets).toHaveLength(run);
      expect(tickets.every((x) => x.assignee?.name === "Jane Doe")).toBe(true);
      expect(tickets.map(({ status, priority, category }) => ({ status, priority, category }))).toEqual(
        tickets.map(() => ({ status: "resolved", priority: "emergency", category: "mobile" })),
      );
      // Its last answer is Karen's timeline: the public entries only.
      const timeline = JSON.parse(stdout.trim().split("\n").at(-1)!) as { items: { type: string; visibility: string }[] };
      expect(timeline.items.map((e) => [e.type, e.visibility])).toEqual([
        ["opened", "public"],
        ["status_changed", "public"],
      ]);
    }
  }, 120_000);
});
