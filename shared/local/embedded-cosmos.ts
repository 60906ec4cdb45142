import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { replicaWorkerOf, wireReplica, workerSourceOf } from "./query-replica.js";

/**
 * The embedded Cosmos DB endpoint for the local host and the tests: in memory, spoken to over
 * HTTP by the real @azure/cosmos client. It runs in a worker thread of its own, so that its
 * work (parsing each request, the documents' JSON, the batches) never holds up the host's
 * thread, which serves the API; its queries are answered by a replica in a worker of the
 * endpoint's (query-replica.ts), so that a long query never holds up its other requests
 * either. `requests` counts what it receives, which is how round trips per command are
 * measured; `writes` counts the requests that may have changed something, once answered,
 * which is how the kept store (kept-store.ts) knows there is something new to save.
 */
export interface EmbeddedCosmos {
  endpoint: string;
  requests: () => number;
  writes: () => number;
  /** Called after each answered write. */
  onWrite: (listener: () => void) => void;
  close: () => Promise<void>;
}

/** What the endpoint's worker is given: where to require its modules from, and the code it runs. */
interface EndpointData {
  port: number;
  serverModule: string;
  /** [requests, writes], counted by the worker, read by the host. */
  counters: SharedArrayBuffer;
  replica: ReturnType<typeof replicaWorkerOf>;
  wireReplica: string;
  /** Marks the endpoint's own warm-up requests, left uncounted (no client knows it). */
  warmUpToken: string;
}

type FromEndpoint =
  | { kind: "listening"; port: number }
  | { kind: "failed"; message: string; code?: string }
  | { kind: "write" }
  | { kind: "log"; line: string }
  | { kind: "closed" };

/**
 * The endpoint's worker, run as it is (`eval`), as the replica is: it may use nothing from this
 * module, only what it requires by the paths it is given and the sources it is handed.
 */
function endpoint(): void {
  const threads = globalThis.require("node:worker_threads") as typeof import("node:worker_threads");
  const parentPort = threads.parentPort!;
  const data = threads.workerData as EndpointData;
  const post = (message: FromEndpoint) => parentPort.postMessage(message);
  const { createHttpServer } = globalThis.require(data.serverModule) as typeof import("@vercel/cosmosdb-server");
  const counters = new Int32Array(data.counters);
  let watched = false;
  // Cosmos DB's REST protocol: a query is a POST too, told apart by its headers.
  const mayWrite = (req: import("node:http").IncomingMessage): boolean => {
    if (req.method === "GET" || req.method === "HEAD") return false;
    if (req.method !== "POST") return true;
    const h = req.headers;
    const query = String(h["x-ms-documentdb-isquery"]).toLowerCase() === "true" || h["content-type"] === "application/query+json";
    return !query && String(h["x-ms-cosmos-is-query-plan-request"]).toLowerCase() !== "true";
  };
  const server = createHttpServer({ keepAlive: true });
  server.on("request", (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
    if (req.headers["x-helpdesk-warm-up"] === data.warmUpToken) return;
    Atomics.add(counters, 0, 1);
    if (!mayWrite(req)) return;
    // Counted as it is answered, before the answer leaves: the host, on another thread, may act
    // on the answer at once (the kept store's last save at a stop), and must see the count moved.
    const end = res.end.bind(res);
    res.end = ((...args: Parameters<typeof res.end>) => {
      res.end = end;
      Atomics.add(counters, 1, 1);
      if (watched) post({ kind: "write" });
      return end(...args);
    }) as typeof res.end;
  });
  server.once("error", (e: Error & { code?: string }) => post({ kind: "failed", message: e.message, code: e.code }));
  server.listen(data.port, "127.0.0.1", () => {
    // The patched endpoint's account, made as it started listening (patches/).
    const account = (server as unknown as { account: object }).account;
    const { Worker } = threads;
    const wire = (0, eval)(`const __name = (target) => target;\n(${data.wireReplica})`) as typeof wireReplica;
    const replica = wire(account, new Worker(data.replica.source, { eval: true, workerData: data.replica.workerData }), (line) =>
      post({ kind: "log", line }),
    );
    parentPort.on("message", (message: "watch" | "close") => {
      if (message === "watch") watched = true;
      else {
        server.close(() => void replica.close().then(() => post({ kind: "closed" })));
        server.closeAllConnections?.();
      }
    });
    const { port } = server.address() as import("node:net").AddressInfo;
    post({ kind: "listening", port });
    // Its own first requests, uncounted, while the host still loads: the first of the host's
    // would otherwise run the endpoint's request path cold (tens of milliseconds).
    const http = globalThis.require("node:http") as typeof import("node:http");
    const warm = (left: number) =>
      http
        .get(
          {
            host: "127.0.0.1",
            port,
            path: "/",
            headers: { "x-helpdesk-warm-up": data.warmUpToken, "x-ms-date": new Date().toUTCString() },
          },
          (res) => {
            res.resume();
            res.once("end", () => left > 1 && warm(left - 1));
          },
        )
        .once("error", () => {});
    warm(3);
    // ICU's data, which the first Intl call of a process loads (10 to 30 ms: the host's first
    // SLA clock, through Luxon's locale), is the process's, not a thread's: loaded here, on the
    // other core while the host still loads, the host's first request finds it loaded.
    setImmediate(() => new Intl.DateTimeFormat().resolvedOptions());
  });
}

let early: Promise<EmbeddedCosmos> | undefined;

/**
 * Starts the endpoint now, on any free port, for the next startEmbeddedCosmos() to take: `npm
 * start` calls it before it loads the host (shared/local/start.ts), so that the endpoint's
 * worker boots on the other core while the host's thread compiles the host.
 */
export function startEmbeddedCosmosEarly(): void {
  // Ref'd like any other: every path of npm start takes it (composition.stores() at start-up) or
  // exits the process. (Unref'd until taken, the first request came about 20 ms later.)
  early ??= startEmbeddedCosmosWorker(0);
  // Taken, or not needed (a setting named a real store): a failure here is the taker's to see.
  early.catch(() => {});
}

export function startEmbeddedCosmos(port = 0): Promise<EmbeddedCosmos> {
  const started = port === 0 ? early : undefined;
  if (started) {
    early = undefined;
    return started;
  }
  return startEmbeddedCosmosWorker(port);
}

async function startEmbeddedCosmosWorker(port: number): Promise<EmbeddedCosmos> {
  const require = createRequire(import.meta.url);
  const counters = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  const workerData: EndpointData = {
    port,
    serverModule: require.resolve("@vercel/cosmosdb-server"),
    counters,
    replica: replicaWorkerOf(),
    wireReplica: wireReplica.toString(),
    warmUpToken: randomUUID(),
  };
  const worker = new Worker(workerSourceOf(endpoint), { eval: true, workerData });
  const listeners: (() => void)[] = [];
  let closed: (() => void) | undefined;
  let closing = false;
  // Resolves once the worker is gone, however it went: a close never waits for a worker that is not there.
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  const listening = new Promise<number>((resolve, reject) => {
    worker.on("message", (message: FromEndpoint) => {
      if (message.kind === "listening") resolve(message.port);
      else if (message.kind === "failed") reject(Object.assign(new Error(message.message), { code: message.code }));
      else if (message.kind === "write") for (const listener of listeners) listener();
      else if (message.kind === "log") console.error(message.line);
      else closed?.();
    });
    worker.once("error", (e) => {
      console.error(`embedded store: its endpoint failed (${e.message}); the store no longer answers: restart the host`);
      reject(e);
    });
    worker.once("exit", (code) => {
      if (!closing) console.error(`embedded store: its endpoint's worker stopped (${code})`);
      reject(new Error(`The embedded Cosmos DB endpoint's worker stopped (${code}).`));
    });
  });
  let bound: number;
  try {
    bound = await listening;
  } catch (e) {
    closing = true;
    await worker.terminate();
    throw e;
  }
  const counted = new Int32Array(counters);
  let closeOnce: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    requests: () => Atomics.load(counted, 0),
    writes: () => Atomics.load(counted, 1),
    onWrite: (listener) => {
      if (!listeners.length) worker.postMessage("watch");
      listeners.push(listener);
    },
    close: () =>
      (closeOnce ??= (async () => {
        closing = true;
        // Its connections and its replica closed, or the worker gone already (it failed).
        await Promise.race([new Promise<void>((resolve) => ((closed = resolve), worker.postMessage("close"))), exited]);
        await worker.terminate();
      })()),
  };
}
