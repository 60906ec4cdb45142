import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { createHttpServer } from "@vercel/cosmosdb-server";
import { replicateQueries, type ReplicatedAccount } from "./query-replica.js";

/**
 * The embedded Cosmos DB endpoint for the local host and the tests: in memory,
 * spoken to over HTTP by the real @azure/cosmos client, its queries answered by a replica
 * in a worker thread (query-replica.ts). `requests` counts what
 * it receives, which is how round trips per command are measured; `writes` counts
 * the requests that may have changed something, once answered, which is how the kept
 * store (kept-store.ts) knows there is something new to save.
 */
export interface EmbeddedCosmos {
  endpoint: string;
  requests: () => number;
  writes: () => number;
  /** Called after each answered write. */
  onWrite: (listener: () => void) => void;
  close: () => Promise<void>;
}

/** Cosmos DB's REST protocol: a query is a POST too, told apart by its headers. */
function mayWrite(req: IncomingMessage): boolean {
  if (req.method === "GET" || req.method === "HEAD") return false;
  if (req.method !== "POST") return true;
  const h = req.headers;
  const query = String(h["x-ms-documentdb-isquery"]).toLowerCase() === "true" || h["content-type"] === "application/query+json";
  return !query && String(h["x-ms-cosmos-is-query-plan-request"]).toLowerCase() !== "true";
}

export async function startEmbeddedCosmos(port = 0): Promise<EmbeddedCosmos> {
  const server = createHttpServer({ keepAlive: true });
  let requests = 0;
  let writes = 0;
  const listeners: (() => void)[] = [];
  server.on("request", (req: IncomingMessage, res) => {
    requests++;
    // Counted once answered, so that a save that starts after the count sees the change.
    if (mayWrite(req))
      res.once("finish", () => {
        writes++;
        for (const listener of listeners) listener();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  // The patched endpoint's account, made as it started listening (patches/).
  const replica = replicateQueries((server as unknown as { account: ReplicatedAccount }).account, (line) => console.error(line));
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    requests: () => requests,
    writes: () => writes,
    onWrite: (listener) => void listeners.push(listener),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
      await replica.close();
    },
  };
}
