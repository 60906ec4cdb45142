import { spawn } from "node:child_process";
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { freePort } from "../test/support/processes.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signDevToken } from "../shared/local/dev-issuer.js";

/**
 * Cold start of the bundled app: from spawning what `npm start` execs (package.json's start
 * script: `node --enable-source-maps dist/shared/local/start.js`) to the first 201 of POST
 * /api/tickets (embedded store created and its kept file loaded: the tickets of the runs
 * before, token verified, ticket written), median of N runs. Beside it, in the same run, the
 * same measure for a bare node:http server answering 201, so the figure is also a ratio to what
 * Node.js itself costs on this machine; and for the floor of this stack
 * (bench/cold-start-floor.ts, bundled and run as the host is): Node.js, the Cosmos DB SDK, the
 * embedded endpoint's worker, the containers and one batch, with no app. The three run in
 * turns, so what else the machine does weighs on each alike. Run `npm run bundle` first.
 */
const RUNS = Number(process.env.RUNS ?? 5);

/** npm start's own node arguments, read from package.json so that this measures what it runs. */
function startArguments(): string[] {
  const { scripts } = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: { start: string } };
  const args = /^exec node (.+)$/.exec(scripts.start)?.[1]?.split(" ");
  if (!args) throw new Error(`package.json's start script is not "exec node ...": ${scripts.start}`);
  return args;
}

async function timeToFirst201(args: string[], env: Record<string, string>, port: number, token: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env, PORT: String(port) }, stdio: "ignore" });
  try {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/tickets`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ subject: "Cold start", description: "first ticket" }),
        });
        if (res.status === 201) return performance.now() - started;
        throw new Error(`unexpected ${res.status}: ${await res.text()}`);
      } catch (e) {
        if ((e as Error).message.startsWith("unexpected")) throw e;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

/** Bundled with the host's own esbuild settings (package.json's bundle script), beside the host's bundle. */
async function bundleFloor(): Promise<string> {
  const outfile = "dist/bench/cold-start-floor.js";
  await build({
    entryPoints: ["bench/cold-start-floor.ts"],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["@azure/functions-core", "@zeit/cosmosdb-query"],
    sourcemap: true,
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "warning",
  });
  return outfile;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = await mkdtemp(join(tmpdir(), "helpdesk-bench-"));
try {
  const token = await signDevToken(dir, { name: "Karen Karen", email: "karen@example.com" });
  const bare = `require("http").createServer((q,s)=>{s.writeHead(201);s.end()}).listen(process.env.PORT,"127.0.0.1")`;
  const floorScript = await bundleFloor();
  const start = startArguments();
  const app: number[] = [];
  const floor: number[] = [];
  const baseline: number[] = [];
  const turns = [
    async () => app.push(await timeToFirst201(start, { LOCAL_DIR: dir }, await freePort(), token)),
    async () => floor.push(await timeToFirst201([...start.slice(0, -1), floorScript], {}, await freePort(), token)),
    async () => baseline.push(await timeToFirst201(["-e", bare], {}, await freePort(), token)),
  ];
  // Each run starts with the next of the three, so none always follows the same one.
  for (let i = 0; i < RUNS; i++) for (let t = 0; t < turns.length; t++) await turns[(i + t) % turns.length]!();
  const [m, f, b] = [median(app), median(floor), median(baseline)];
  const runs = (xs: number[]) => `[${xs.map((x) => x.toFixed(0)).join(", ")}]`;
  console.log(`cold start to first 201 (bundled local host): median ${m.toFixed(0)} ms over ${RUNS} runs ${runs(app)}`);
  console.log(`the stack's floor (SDK, endpoint, one batch): median ${f.toFixed(0)} ms ${runs(floor)}`);
  console.log(`bare node:http server to first 201:           median ${b.toFixed(0)} ms ${runs(baseline)}`);
  console.log(
    `ratio app / bare node: ${(m / b).toFixed(2)} (goal <= 2.5); floor / bare node: ${(f / b).toFixed(2)}; app / floor: ${(m / f).toFixed(2)}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
