import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * The embedded endpoint's queries, answered by a replica of its documents in a worker
 * thread, so that a query over a large local store (a queue page scans every ticket) never
 * holds up the requests the local host's own thread serves meanwhile: a create, a point
 * read, another caller's request. Writes and point reads stay on the endpoint, where they
 * take microseconds.
 *
 * The endpoint (patches/@vercel+cosmosdb-server+1.0.1.patch) tells each change to
 * `account.onChange` as it makes it, and hands each query to `account.runQuery`. Both travel
 * over the worker's one message port, which keeps their order: a query sees every write the
 * endpoint answered before it, as Cosmos DB's session consistency promises the SDK.
 */

/** What the patched endpoint's account offers (index.js, account/*.js in the patch). */
export interface ReplicatedAccount {
  onChange?: (change: Change) => void;
  runQuery?: (query: QueryRequest) => Promise<unknown>;
}

type Change =
  | { kind: "collection"; db: string; data: object }
  | { kind: "dropCollection"; db: string; coll: string }
  | { kind: "dropDatabase"; db: string }
  | { kind: "set" | "delete"; db: string; coll: string; doc: object };

interface QueryRequest {
  db: string;
  coll: string;
  body: unknown;
  options: unknown;
}

type Answer = { id: number; result: unknown } | { id: number; error: { message: string; badRequest: boolean } };

/**
 * The worker's code, run as it is (`eval`), so that the same function serves the bundled
 * host and the tests' TypeScript alike. It may use nothing from this module: only what it
 * requires, by the paths it is given.
 */
function replica(): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- a worker's own CommonJS script */
  const threads = require("node:worker_threads") as typeof import("node:worker_threads");
  const parentPort = threads.parentPort!;
  const { collectionModule } = threads.workerData as { collectionModule: string };
  type Documents = {
    _set(doc: object): void;
    delete(rid: string): void;
    query(body: unknown, options: unknown): unknown;
  };
  const Collection = (require(collectionModule) as { default: new (data: object) => { documents: Documents } }).default;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const collections = new Map<string, { documents: Documents }>();
  const key = (db: string, coll: string) => JSON.stringify([db, coll]);
  parentPort.on("message", (m: Change | (QueryRequest & { kind: "query"; id: number })) => {
    switch (m.kind) {
      case "collection":
        collections.set(key(m.db, (m.data as { id: string }).id), new Collection(m.data));
        break;
      case "dropCollection":
        collections.delete(key(m.db, m.coll));
        break;
      case "dropDatabase":
        for (const k of [...collections.keys()]) if ((JSON.parse(k) as string[])[0] === m.db) collections.delete(k);
        break;
      case "set":
        collections.get(key(m.db, m.coll))?.documents._set(m.doc);
        break;
      case "delete":
        // By _rid, which the endpoint gave the document: the replica holds it under that.
        collections.get(key(m.db, m.coll))?.documents.delete((m.doc as { _rid: string })._rid);
        break;
      case "query":
        try {
          // No such collection answers as the endpoint does: nothing (its handler says 404).
          const result = collections.get(key(m.db, m.coll))?.documents.query(m.body, m.options) ?? null;
          parentPort.postMessage({ id: m.id, result });
        } catch (e) {
          const error = e as { message?: string; badRequest?: boolean };
          parentPort.postMessage({ id: m.id, error: { message: String(error.message), badRequest: Boolean(error.badRequest) } });
        }
        break;
    }
  });
}

export interface QueryReplica {
  close(): Promise<void>;
}

/** Keeps a replica of `account` in a worker thread and answers its queries from there. */
export function replicateQueries(account: ReplicatedAccount, log: (line: string) => void): QueryReplica {
  const require = createRequire(import.meta.url);
  // `__name`: the helper esbuild's keepNames (tsx, the bundle) wraps named functions in.
  const worker = new Worker(`const __name = (target) => target;\n(${replica.toString()})();`, {
    eval: true,
    workerData: { collectionModule: require.resolve("@vercel/cosmosdb-server/lib/account/collection.js") },
  });
  // The host's own lifetime decides; the replica never keeps a process alive.
  worker.unref();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failed: Error | undefined;
  worker.on("message", (answer: Answer) => {
    const waiting = pending.get(answer.id);
    pending.delete(answer.id);
    if (!waiting) return;
    if ("result" in answer) waiting.resolve(answer.result);
    else waiting.reject(Object.assign(new Error(answer.error.message), { badRequest: answer.error.badRequest }));
  });
  const fail = (e: Error) => {
    failed ??= e;
    for (const { reject } of pending.values()) reject(failed);
    pending.clear();
  };
  worker.on("error", (e) => {
    log(`embedded store: its query replica failed, no query is answered until the host restarts: ${e.message}`);
    fail(e);
  });
  worker.on("exit", () => fail(new Error("The embedded store's query replica has stopped.")));
  account.onChange = (change) => {
    if (!failed) worker.postMessage(change);
  };
  account.runQuery = (query) =>
    new Promise((resolve, reject) => {
      if (failed) return reject(failed);
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...query, kind: "query", id });
    });
  return {
    close: async () => {
      delete account.onChange;
      delete account.runQuery;
      await worker.terminate();
    },
  };
}
