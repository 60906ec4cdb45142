import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signDevToken } from "../shared/local/dev-issuer.js";
import { descendants, freePort, printed } from "../test/support/processes.js";
import { benchHostEnv, drainOutput, stopChild } from "./host-process.js";
import { percentile } from "./stats.js";

/**
 * How the API's latencies grow with the store: the bundled local host (`node
 * dist/shared/local/main.js`, embedded Cosmos DB endpoint in memory) spawned once, filled
 * over HTTP with tickets to each of SIZES (default 1,000, 10,000, 100,000), and at each
 * size, from sequential requests: the queue's first page and its tenth page (by
 * nextCursor), the first timeline page of a ticket with 1,000 entries (for an agent and for
 * its requester), the create latency alone, and the create latency while another client
 * keeps asking for a queue page that makes the store scan (page 10; `?status=closed`,
 * which matches nothing), with the ratio to the create alone. Beside them, the host
 * process's memory after each fill. A request that takes more than 60 s, or that the host
 * answers 503, is counted and printed, not fatal; when requests are slow, a measure takes
 * fewer samples (each has a time budget). Run through `npm run bench:scale` (bundles first).
 */
const SIZES = (process.env.SIZES ?? "1000,10000,100000")
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0)
  .sort((a, b) => a - b);
const FILL_CONCURRENCY = 16;
const REQUESTERS = 20;
const TIMELINE_ENTRIES = 1_000;
const REQUEST_TIMEOUT_MS = 60_000;
/** Samples per read measure and per create measure, each stopped early once its budget is spent (at least MIN_SAMPLES). */
const READ_SAMPLES = 50;
const CREATE_SAMPLES = 200;
const MIN_SAMPLES = 5;
const BUDGET_MS = Number(process.env.BUDGET_MS ?? 20_000);
const PAGE_GOAL_MS = 50;
const SCAN_RATIO_GOAL = 2;

// Loaded into the host before its entry point: answers "memory" on the IPC channel with
// process.memoryUsage(), so heapUsed is read from inside (RSS is read from /proc too).
const MEMORY_PROBE = `process.on("message", (m) => { if (m === "memory") process.send({ memory: process.memoryUsage() }); });`;

type Outcome =
  { ok: true; status: number; ms: number; json: unknown } | { ok: false; status: number | "timeout" | "error"; ms: number; why: string };

const dir = await mkdtemp(join(tmpdir(), "helpdesk-bench-scale-"));
let child: ChildProcess | undefined;
let cleaned: Promise<void> | undefined;
const cleanUp = () =>
  (cleaned ??= (async () => {
    if (child) await stopChild(child, 30_000);
    await rm(dir, { recursive: true, force: true });
  })());
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping the host and removing ${dir}`);
    void cleanUp().then(() => process.exit(130));
  });
}

try {
  // The dev issuer's key is made in LOCAL_DIR here, before the host starts; the host trusts the same key.
  const requesters = await Promise.all(
    Array.from({ length: REQUESTERS }, (_, i) => signDevToken(dir, { name: `Requester ${i}`, email: `requester${i}@example.com` })),
  );
  const agent = await signDevToken(dir, { name: "Jane Doe", email: "jane@example.com", role: "agent" });

  const port = await freePort();
  child = spawn(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(MEMORY_PROBE)}`, "dist/shared/local/main.js"], {
    env: benchHostEnv(port, dir),
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const host = child;
  // Its output is drained (a log line a request), and the last of it kept for a failure's message.
  const tail = drainOutput(host);
  const startedAt = performance.now();
  const banner = await printed(host, "stdout", /Help desk API on (\S+)/);
  const api = /Help desk API on (\S+)/.exec(banner)![1]!;
  console.log(`host pid ${host.pid} on ${api}, ready in ${(performance.now() - startedAt).toFixed(0)} ms; sizes ${SIZES.join(", ")}`);
  host.once("exit", (code, signal) => {
    if (!cleaned) console.error(`the host exited (${code ?? signal}) during the run; its last output:\n${tail()}`);
  });

  const request = async (token: string, method: string, path: string, body?: unknown): Promise<Outcome> => {
    const t0 = performance.now();
    try {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      const ms = performance.now() - t0;
      if (res.status >= 300) return { ok: false, status: res.status, ms, why: text.slice(0, 300) };
      return { ok: true, status: res.status, ms, json: JSON.parse(text) as unknown };
    } catch (e) {
      const ms = performance.now() - t0;
      const name = (e as Error).name;
      if (name === "TimeoutError" || name === "AbortError")
        return { ok: false, status: "timeout", ms, why: `no answer in ${REQUEST_TIMEOUT_MS / 1000} s` };
      return { ok: false, status: "error", ms, why: String(e) };
    }
  };

  // For the fill and the set-up: a 503 or 429 is retried after a short pause (counted); anything else fails the run.
  let retried = 0;
  const must = async (token: string, method: string, path: string, body?: unknown): Promise<unknown> => {
    for (let attempt = 0; ; attempt++) {
      const r = await request(token, method, path, body);
      if (r.ok) return r.json;
      if ((r.status === 503 || r.status === 429) && attempt < 100) {
        retried++;
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      throw new Error(`${method} ${path}: ${r.status} ${r.why}`);
    }
  };

  let tickets = 0;
  const newTicket = (n: number) => ({
    subject: `Ticket ${n}: the VPN drops every few minutes`,
    description: "Since this morning the branch VPN disconnects every five to ten minutes; reconnecting works until the next drop.",
  });
  const create = (token: string) => request(token, "POST", "/tickets", newTicket(tickets++));

  // Samples of one call, sequential: READ_SAMPLES or CREATE_SAMPLES, fewer once the budget is spent;
  // a timeout ends the measure (the next one would wait as long). Failures are counted, not timed.
  interface Sampled {
    ms: number[];
    failures: Map<string, number>;
  }
  const sample = async (n: number, call: () => Promise<Outcome>, budgetMs = BUDGET_MS): Promise<Sampled> => {
    const result: Sampled = { ms: [], failures: new Map() };
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      if (i >= MIN_SAMPLES && performance.now() - started > budgetMs) break;
      const r = await call();
      if (r.ok) result.ms.push(r.ms);
      else {
        const key = r.status === "timeout" ? "timeout >60 s" : String(r.status);
        result.failures.set(key, (result.failures.get(key) ?? 0) + 1);
        if (r.status === "timeout") break;
      }
    }
    return result;
  };
  const stats = (s: Sampled) => {
    const sorted = [...s.ms].sort((a, b) => a - b);
    return sorted.length ? { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length } : null;
  };
  const failures = (s: Sampled) => [...s.failures].map(([k, v]) => `${v}× ${k}`).join(", ");

  const memory = async () => {
    const pids = [host.pid!, ...(await descendants(host.pid!))];
    let rssKb = 0;
    for (const pid of pids) {
      const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
      rssKb += Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    }
    const usage = await new Promise<NodeJS.MemoryUsage | null>((resolve) => {
      const timer = setTimeout(() => done(null), 30_000);
      const done = (m: NodeJS.MemoryUsage | null) => {
        clearTimeout(timer);
        host.off("message", onMessage);
        resolve(m);
      };
      const onMessage = (m: unknown) => {
        if (m && typeof m === "object" && "memory" in m) done((m as { memory: NodeJS.MemoryUsage }).memory);
      };
      host.on("message", onMessage);
      host.send("memory");
    });
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
    return (
      `RSS ${mib(rssKb * 1024)} (VmRSS, ${pids.length} process${pids.length === 1 ? "" : "es"})` +
      (usage
        ? `, heapUsed ${mib(usage.heapUsed)}, heapTotal ${mib(usage.heapTotal)}, external ${mib(usage.external)}`
        : ", heapUsed: no answer")
    );
  };

  // Warm-up (connect, bootstrap, make the agent known), then the ticket whose timeline is read:
  // opened by requester 0, then comments by the agent, alternately public and internal.
  const setupStarted = performance.now();
  const timelineTicket = (await must(requesters[0]!, "POST", "/tickets", newTicket(tickets++))) as { id: string };
  for (let i = 1; i < TIMELINE_ENTRIES; i++) {
    await must(agent, "POST", `/tickets/${timelineTicket.id}/comments`, {
      body: `Comment ${i}: checked the gateway's logs again.`,
      visibility: i % 2 ? "public" : "internal",
    });
  }
  const countEntries = async (token: string) => {
    let count = 0;
    let cursor: string | null = null;
    do {
      const page = (await must(
        token,
        "GET",
        `/tickets/${timelineTicket.id}/timeline?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      )) as { items: unknown[]; nextCursor: string | null };
      count += page.items.length;
      cursor = page.nextCursor;
    } while (cursor);
    return count;
  };
  console.log(
    `timeline ticket ${timelineTicket.id}: ${await countEntries(agent)} entries for the agent, ${await countEntries(requesters[0]!)} for its requester ` +
      `(${TIMELINE_ENTRIES - 1} comments, alternately public and internal, in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s)`,
  );

  const fill = async (upTo: number) => {
    const from = tickets;
    const retriedBefore = retried;
    const started = performance.now();
    let done = 0;
    let nextProgress = (Math.floor(tickets / 10_000) + 1) * 10_000;
    await Promise.all(
      Array.from({ length: FILL_CONCURRENCY }, async () => {
        while (tickets < upTo) {
          const n = tickets++;
          await must(requesters[n % REQUESTERS]!, "POST", "/tickets", newTicket(n));
          done++;
          if (from + done >= nextProgress) {
            const s = (performance.now() - started) / 1000;
            console.log(`  filled ${nextProgress.toLocaleString("en")} tickets (${s.toFixed(0)} s, ${(done / s).toFixed(0)}/s so far)`);
            nextProgress += 10_000;
          }
        }
      }),
    );
    const s = (performance.now() - started) / 1000;
    return `+${(tickets - from).toLocaleString("en")} in ${s.toFixed(1)} s, ${((tickets - from) / s).toFixed(0)} creates/s at c=${FILL_CONCURRENCY}, ${retried - retriedBefore} retried after 503/429`;
  };

  const queuePath = (query: string, cursor?: string | null) => `/tickets?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
  /** The cursor of page `page` (nextCursor followed page - 1 times), or why not. */
  const cursorOfPage = async (page: number): Promise<{ cursor: string } | { why: string }> => {
    let cursor: string | null = null;
    for (let i = 1; i < page; i++) {
      const r = await request(agent, "GET", queuePath("limit=25", cursor));
      if (!r.ok) return { why: `page ${i}: ${r.status}` };
      cursor = (r.json as { nextCursor: string | null }).nextCursor;
      if (!cursor) return { why: `no page ${i + 1}` };
    }
    return { cursor: cursor! };
  };

  /** Creates, sequential, while another client keeps requesting `path` (one request at a time); its requests are timed too. */
  const createsDuring = async (path: string) => {
    let stop = false;
    const scans: Sampled = { ms: [], failures: new Map() };
    const scanner = (async () => {
      while (!stop) {
        const r = await request(agent, "GET", path);
        if (r.ok) scans.ms.push(r.ms);
        else scans.failures.set(String(r.status), (scans.failures.get(String(r.status)) ?? 0) + 1);
      }
    })();
    // Let the first scan begin before the first create.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const creates = await sample(CREATE_SAMPLES, () => create(requesters[tickets % REQUESTERS]!));
    stop = true;
    await scanner;
    return { creates, scans };
  };

  const fmt = (ms: number | undefined) => (ms === undefined ? "—" : ms < 10 ? ms.toFixed(2) : ms < 1000 ? ms.toFixed(1) : ms.toFixed(0));
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");

  for (const size of SIZES) {
    console.log(`\nfilling to ${size.toLocaleString("en")} tickets...`);
    const filled = await fill(size);
    const mem = await memory();
    const atStart = tickets;

    const rows: string[][] = [];
    const row = (label: string, s: Sampled | null, goal = "", note = "") => {
      const st = s ? stats(s) : null;
      const fails = s ? failures(s) : "";
      rows.push([label, st ? String(st.n) : "0", fmt(st?.p50), fmt(st?.p99), goal, [fails, note].filter(Boolean).join("; ")]);
      return st;
    };
    const pageGoal = (st: ReturnType<typeof stats>) =>
      `p50 < ${PAGE_GOAL_MS} ms (goal at 100k): ${st ? verdict(st.p50 < PAGE_GOAL_MS) : "no figure"}`;

    const page1 = await sample(READ_SAMPLES, () => request(agent, "GET", "/tickets?limit=25"));
    const p1 = row("queue page 1 (agent, limit=25)", page1);
    rows[rows.length - 1]![4] = pageGoal(p1);

    const tenth = await cursorOfPage(10);
    if ("cursor" in tenth) {
      const page10 = await sample(READ_SAMPLES, () => request(agent, "GET", queuePath("limit=25", tenth.cursor)));
      const p10 = row("queue page 10 (same cursor)", page10);
      rows[rows.length - 1]![4] = pageGoal(p10);
    } else row("queue page 10 (same cursor)", null, "", `not reached: ${tenth.why}`);

    const closed = await sample(READ_SAMPLES, () => request(agent, "GET", "/tickets?limit=25&status=closed"));
    row("queue ?status=closed (no match)", closed);
    // Every ticket the fill opens stays open: a filter on the status most tickets have.
    const open = await sample(READ_SAMPLES, () => request(agent, "GET", "/tickets?limit=25&status=open"));
    row("queue ?status=open (nearly all)", open);

    const timelinePath = `/tickets/${timelineTicket.id}/timeline`;
    row("timeline page 1, 1,000 entries, agent", await sample(READ_SAMPLES, () => request(agent, "GET", timelinePath)));
    row("timeline page 1, same, requester", await sample(READ_SAMPLES, () => request(requesters[0]!, "GET", timelinePath)));

    const alone = await sample(CREATE_SAMPLES, () => create(requesters[tickets % REQUESTERS]!));
    const a = row("POST /tickets alone (c=1)", alone);

    const during = async (label: string, path: string | null) => {
      if (!path) {
        row(`POST /tickets during ${label}`, null, "", "no scan path");
        return;
      }
      const { creates, scans } = await createsDuring(path);
      const d = stats(creates);
      const ratio = d && a ? d.p99 / a.p99 : undefined;
      row(
        `POST /tickets during ${label}`,
        creates,
        ratio === undefined
          ? `p99 ≤ ${SCAN_RATIO_GOAL}× alone: no figure`
          : `p99 ${ratio.toFixed(2)}× alone (≤ ${SCAN_RATIO_GOAL}×): ${verdict(ratio <= SCAN_RATIO_GOAL)}`,
      );
      const sc = stats(scans);
      rows.push([`  (the scanning client's ${label})`, String(sc?.n ?? 0), fmt(sc?.p50), fmt(sc?.p99), "", failures(scans)]);
    };
    await during("page-10 loop", "cursor" in tenth ? queuePath("limit=25", tenth.cursor) : null);
    await during("status=closed loop", "/tickets?limit=25&status=closed");

    console.log(`\n== ${size.toLocaleString("en")} tickets ==`);
    console.log(`fill: ${filled}`);
    console.log(`host memory after the fill: ${mem}`);
    console.log(
      `(measures below begin with ${atStart.toLocaleString("en")} tickets; their creates add ${(tickets - atStart).toLocaleString("en")})`,
    );
    const header = ["measure", "n", "p50 ms", "p99 ms", "goal", "failures / notes"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) =>
      r
        .map((c, i) => (i === 1 || i === 2 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd();
    console.log(line(header));
    for (const r of rows) console.log(line(r));
  }
  console.log(`\n${retried} calls retried after a 503 or 429 in all; total ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
} finally {
  await cleanUp();
}
