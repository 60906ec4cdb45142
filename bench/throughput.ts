import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Container, JSONObject, OperationInput } from "@azure/cosmos";
import { bootstrapCosmos, connectCosmos, EMBEDDED_KEY, ticketsContainer } from "../shared/adapters/cosmos/connect.js";
import { toEntryDoc, toOutboxDoc, toTicketDoc } from "../shared/adapters/cosmos/documents.js";
import { loadConfig } from "../shared/app/config.js";
import type { Principal } from "../shared/kernel/principal.js";
import { signDevToken } from "../shared/local/dev-issuer.js";
import { ticketOutbox } from "../shared/app/composition.js";
import { DEFAULT_SLA_POLICY } from "../shared/sla/domain/policy.js";
import { openTicket } from "../shared/tickets/domain/commands.js";
import { withSla } from "../shared/tickets/domain/sla.js";
import { requesterIdOf, systemRandomness } from "../shared/tickets/ids.js";
import { freePort, printed } from "../test/support/processes.js";
import { benchHostEnv, drainOutput, stopChild } from "./host-process.js";

/**
 * Throughput of the API over the throughput of the store it stands on, measured in one
 * run. The bundled local host (`node dist/shared/local/main.js`, LOCAL_STORE=memory, rate
 * limits raised) runs in a child process with its embedded Cosmos DB endpoint; the load
 * comes from this process, N loops each awaiting one request after the other, for
 * DURATION_MS after a WARMUP_MS warm-up:
 *   - API create: POST /api/tickets {subject, description}, a requester's token;
 *   - API get:    GET /api/tickets/{id}, an agent's token, over GET_IDS tickets opened first;
 *   - raw create: what the API writes for a create, straight to the host's embedded endpoint
 *                 with @azure/cosmos: one transactional batch of the ticket document and its
 *                 "opened" entry, built by the project's own command and document functions
 *                 (checked at start against the documents an API create left in its partition);
 *   - raw get:    a point read of a ticket document, container.item(id, id).read(), same ids;
 *   - thin:       a bare node:http server in a second child (this file, "thin-server") doing
 *                 the raw create and the raw get per request, no auth, no validation: what
 *                 any HTTP layer over this client costs.
 * Each API figure is taken beside its raw and thin ones, ROUNDS times (default 3). Printed:
 * the median req/s and p50 latency of each at c=1 and c=10, then API/raw per operation (the
 * median of the rounds' ratios, each round's beside it) with the goal (at least 0.6 at c=10).
 * The machine's load average is printed too: other work on it moves every figure. Run
 * `npm run bundle` first (bench:throughput does).
 */
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 500);
const DURATION_MS = Number(process.env.DURATION_MS ?? 3000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const GET_IDS = 200;
const CONCURRENCY = [1, 10] as const;
const GOAL = 0.6;

/** The requester the raw documents are opened by (the API's is the token's). */
const BENCH_REQUESTER: Principal = {
  id: "user-bench-raw",
  name: "Raw Requester",
  email: "raw@example.com",
  role: "requester",
};
const SUBJECT = "The VPN drops every few minutes";
const DESCRIPTION = "Since this morning the branch VPN disconnects every five to ten minutes.";

/**
 * The batch CosmosTicketStore.create sends for a requester's ticket (ticket-store.ts): the
 * ticket document first, then its timeline entries, each operation naming its partition.
 * A fresh random id each time (the API draws a number and retries a taken one; here a
 * collision is not worth a retry).
 */
function openingBatch(): { id: string; operations: OperationInput[] } {
  const id = randomBytes(12).toString("hex");
  const number = systemRandomness.randomNumber();
  // The opening as the writer stores it: its SLA clocks started, their first timers in the outbox.
  const change = withSla(
    null,
    openTicket(
      { subject: SUBJECT, description: DESCRIPTION },
      BENCH_REQUESTER,
      { id, number, requesterId: (email) => requesterIdOf(systemRandomness.hash, email) },
      new Date().toISOString(),
    ),
    DEFAULT_SLA_POLICY,
  );
  const docs = [
    toTicketDoc({ ticket: change.ticket, salt: systemRandomness.randomHex() }),
    ...change.entries.map((e) => toEntryDoc(id, e)),
    // As the host writes it with no app subscribed to events (what this bench's host has).
    ...ticketOutbox(undefined, () => false)
      .entriesFor(change, "bench")
      .map((entry) => toOutboxDoc(entry)),
  ];
  return {
    id,
    operations: docs.map((doc) => ({ operationType: "Create", resourceBody: doc as unknown as JSONObject, partitionKey: id })),
  };
}

async function rawCreate(container: Container): Promise<string> {
  const { id, operations } = openingBatch();
  const response = await container.items.batch(operations, id);
  const failed = (response.result ?? []).find((r) => r.statusCode >= 400);
  if (failed || response.code === undefined || response.code >= 400) throw new Error(`raw batch: ${failed?.statusCode ?? response.code}`);
  return id;
}

async function rawGet(container: Container, id: string): Promise<JSONObject> {
  const { resource, statusCode } = await container.item(id, id).read<JSONObject>();
  if (statusCode !== 200 || !resource) throw new Error(`raw read ${id}: ${statusCode}`);
  return resource;
}

/** The thin server, run as a child of the benchmark: node:http over the raw store calls. */
async function thinServer(): Promise<void> {
  const { COSMOS_ENDPOINT: endpoint, COSMOS_DATABASE_NAME: database, PORT: port } = process.env;
  if (!endpoint || !database || !port) throw new Error("thin-server needs COSMOS_ENDPOINT, COSMOS_DATABASE_NAME and PORT");
  const container = ticketsContainer(await connectCosmos({ endpoint, key: EMBEDDED_KEY }), database);
  const body = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  const server = createServer((req, res) => {
    const answer = async (): Promise<[number, unknown]> => {
      if (req.method === "POST" && req.url === "/tickets") {
        JSON.parse(await body(req));
        return [201, { id: await rawCreate(container) }];
      }
      const id = req.method === "GET" ? /^\/tickets\/([^/]+)$/.exec(req.url ?? "")?.[1] : undefined;
      return id ? [200, await rawGet(container, id)] : [404, {}];
    };
    answer().then(
      ([status, json]) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json)),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  server.keepAliveTimeout = 5_000;
  server.listen(Number(port), "127.0.0.1", () => console.log(`thin server on ${port}`));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}

interface Measured {
  rps: number;
  p50: number;
  count: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** `concurrency` loops calling `op` back to back: WARMUP_MS unmeasured, then DURATION_MS counted. */
async function measure(concurrency: number, op: (i: number) => Promise<void>): Promise<Measured> {
  let next = 0;
  const run = (until: number, latencies?: number[]) =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          const started = performance.now();
          await op(next++);
          latencies?.push(performance.now() - started);
        }
      }),
    );
  await run(performance.now() + WARMUP_MS);
  const latencies: number[] = [];
  const started = performance.now();
  await run(started + DURATION_MS, latencies);
  const seconds = (performance.now() - started) / 1000;
  return { rps: latencies.length / seconds, p50: median(latencies), count: latencies.length };
}

async function bench(): Promise<void> {
  const database = loadConfig({}).cosmos.database;
  const dir = await mkdtemp(join(tmpdir(), "helpdesk-bench-"));
  const children: ChildProcess[] = [];
  try {
    const port = await freePort();
    const host = spawn(process.execPath, ["dist/shared/local/main.js"], {
      env: {
        ...benchHostEnv(port, dir),
        COSMOS_DATABASE_NAME: database,
        // Unset (an empty setting is an unset one): the embedded endpoint, the development issuer, the in-process queue.
        COSMOS_ENDPOINT: "",
        AUTH_ISSUER: "",
        AUTH_AUDIENCE: "",
        AUTH_JWKS_URI: "",
        SERVICE_BUS_NAMESPACE: "",
        SERVICE_BUS_CONNECTION_STRING: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(host);
    // The banner says where the embedded endpoint listens; then the line per request is read and dropped.
    const banner = await printed(host, "stdout", /store:[^\n]*\n/);
    const hostTail = drainOutput(host);
    const api = /Help desk API on (\S+)/.exec(banner)?.[1]?.replace("//localhost:", "//127.0.0.1:");
    const endpoint = /embedded Cosmos DB endpoint at (http:\/\/[^,\s]+)/.exec(banner)?.[1];
    if (!api || !endpoint) throw new Error(`the host's banner names no API URL or embedded endpoint:\n${banner}`);

    const thinPort = await freePort();
    const thin = spawn(process.execPath, ["--import", "tsx", "bench/throughput.ts", "thin-server"], {
      env: { ...process.env, PORT: String(thinPort), COSMOS_ENDPOINT: endpoint, COSMOS_DATABASE_NAME: database },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(thin);
    await printed(thin, "stdout", /thin server on/);
    drainOutput(thin);
    const thinUrl = `http://127.0.0.1:${thinPort}`;

    const client = await connectCosmos({ endpoint, key: EMBEDDED_KEY });
    await bootstrapCosmos(client, database);
    const container = ticketsContainer(client, database);

    const requester = await signDevToken(dir, { name: "Karen Karen", email: "karen@example.com" });
    const agent = await signDevToken(dir, { name: "Jane Doe", email: "jane@example.com", role: "agent" });
    const expect = async (res: Response, status: number, what: string) => {
      const text = await res.text();
      if (res.status !== status) throw new Error(`${what}: ${res.status} ${text}\n${hostTail()}`);
      return text;
    };
    const apiCreate = async () => {
      const res = await fetch(`${api}/tickets`, {
        method: "POST",
        headers: { authorization: `Bearer ${requester}`, "content-type": "application/json" },
        body: JSON.stringify({ subject: SUBJECT, description: DESCRIPTION }),
      });
      return JSON.parse(await expect(res, 201, "POST /tickets")) as { id: string };
    };
    const apiGet = async (id: string) => {
      await expect(await fetch(`${api}/tickets/${id}`, { headers: { authorization: `Bearer ${agent}` } }), 200, `GET /tickets/${id}`);
    };
    const thinCreate = async () => {
      const res = await fetch(`${thinUrl}/tickets`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ subject: SUBJECT, description: DESCRIPTION }),
      });
      await expect(res, 201, "thin POST /tickets");
    };
    const thinGet = async (id: string) => void (await expect(await fetch(`${thinUrl}/tickets/${id}`), 200, `thin GET /tickets/${id}`));

    // The tickets every get reads (the first calls also make both callers known to the host).
    const ids: string[] = [];
    for (let i = 0; i < GET_IDS; i++) ids.push((await apiCreate()).id);
    await apiGet(ids[0]!);

    // The raw batch writes what an API create wrote: the same documents, with the same fields.
    const shape = async (id: string) => {
      const { resources } = await container.items.query<JSONObject>("SELECT * FROM c", { partitionKey: id }).fetchAll();
      // sentAt and ttl: the dispatcher's marks, after the create (its timers published), not the create's.
      const marks = new Set(["sentAt", "ttl"]);
      const fields = (d: JSONObject) => Object.keys(d).filter((k) => !k.startsWith("_") && !marks.has(k));
      return resources.map((d) => ({
        type: typeof d.type === "string" ? d.type : JSON.stringify(d.type),
        fields: fields(d).sort().join(","),
      }));
    };
    const text = (docs: { type: string; fields: string }[]) =>
      docs
        .map((d) => `${d.type} {${d.fields}}`)
        .sort()
        .join("\n  ");
    // The last of them: the host's first creates write an event for the apps until it knows that none subscribed.
    const [apiDocs, rawDocs] = [await shape(ids.at(-1)!), await shape(await rawCreate(container))];
    if (text(apiDocs) !== text(rawDocs))
      throw new Error(`the raw batch writes other documents than the API:\nAPI:\n  ${text(apiDocs)}\nraw:\n  ${text(rawDocs)}`);
    const written = rawDocs
      .map((d) => d.type)
      .sort()
      .join(" + ");

    // Each API figure is taken right beside its raw one, ROUNDS times over: what else the machine runs
    // then weighs on both alike, and the ratio is the median of the rounds' ratios.
    const results = new Map<string, Measured[]>();
    const run = async (name: string, c: number, op: (i: number) => Promise<unknown>) => {
      const m = await measure(c, async (i) => void (await op(i)));
      results.set(`${name}@${c}`, [...(results.get(`${name}@${c}`) ?? []), m]);
    };
    const load = () => loadavg()[0]!.toFixed(1);
    const loadBefore = load();
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of CONCURRENCY) {
        await run("raw get", c, (i) => rawGet(container, ids[i % ids.length]!));
        await run("API get", c, (i) => apiGet(ids[i % ids.length]!));
        await run("thin get", c, (i) => thinGet(ids[i % ids.length]!));
      }
      for (const c of CONCURRENCY) {
        await run("raw create", c, () => rawCreate(container));
        await run("API create", c, apiCreate);
        await run("thin create", c, thinCreate);
      }
    }
    client.dispose();

    const figure = (key: string) => {
      const rounds = results.get(key)!;
      return { rps: median(rounds.map((m) => m.rps)), p50: median(rounds.map((m) => m.p50)) };
    };
    const cell = (m: { rps: number; p50: number }) => `${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50.toFixed(2).padStart(6)} ms`;
    console.log(
      `Throughput: ${DURATION_MS / 1000} s per figure after ${WARMUP_MS / 1000} s warm-up, median of ${ROUNDS} rounds; ` +
        `load from this process, host and its embedded endpoint in a child (${cpus().length} CPUs, load average ${loadBefore} before, ${load()} after)`,
    );
    console.log(`${"".padEnd(12)} ${CONCURRENCY.map((c) => `c=${c}`.padEnd(28)).join(" ")}`.trimEnd());
    for (const name of ["API create", "raw create", "thin create", "API get", "raw get", "thin get"]) {
      console.log(`${name.padEnd(12)} ${CONCURRENCY.map((c) => cell(figure(`${name}@${c}`)).padEnd(28)).join(" ")}`.trimEnd());
    }
    console.log(`(raw create: one batch, same documents and fields as an API create, checked at start: ${written})`);
    console.log("");
    console.log(
      `${"API / raw".padEnd(12)} ${CONCURRENCY.map((c) => `c=${c}`.padEnd(8)).join("")}goal at c=10   each round's ratio at c=1 | c=10`,
    );
    for (const op of ["create", "get"]) {
      const perRound = CONCURRENCY.map((c) => {
        const [api, raw] = [results.get(`API ${op}@${c}`)!, results.get(`raw ${op}@${c}`)!];
        return api.map((m, i) => m.rps / raw[i]!.rps);
      });
      const ratios = perRound.map(median);
      const at10 = ratios[ratios.length - 1]!;
      const rounds = perRound.map((rs) => rs.map((r) => r.toFixed(2)).join(" ")).join(" | ");
      console.log(
        `${op.padEnd(12)} ${ratios.map((r) => r.toFixed(2).padEnd(8)).join("")}${`>= ${GOAL} ${at10 >= GOAL ? "met" : "not met"}`.padEnd(15)}${rounds}`,
      );
    }
  } finally {
    await Promise.all(children.map((child) => stopChild(child, 5_000)));
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "thin-server") await thinServer();
else await bench();
