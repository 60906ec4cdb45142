import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import module from "node:module";
import { startEmbeddedCosmos } from "../shared/local/embedded-cosmos.js";

/**
 * The floor under the local host's cold start (bench/cold-start.ts bundles and runs it): what
 * any host on this stack does before its first 201, and nothing more. It starts the embedded
 * endpoint's worker first, as `npm start` does, then loads the Cosmos DB SDK. It creates the
 * database and containers with the project's own bootstrap. Each POST reads its body and writes
 * it in one batch. There is no auth, validation, domain, log or kept file.
 */
// As shared/local/start.ts: the compile cache of Node.js 22.1 and later (a no-op on Node.js 20).
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const started = startEmbeddedCosmos();
const { bootstrapCosmos, connectCosmos, EMBEDDED_KEY, ticketsContainer } = await import("../shared/adapters/cosmos/connect.js");
const embedded = await started;
const client = await connectCosmos({ endpoint: embedded.endpoint, key: EMBEDDED_KEY });
const database = "helpdesk";
await bootstrapCosmos(client, database, { fresh: true });
const tickets = ticketsContainer(client, database);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const id = randomUUID();
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    const operations = [
      { operationType: "Create" as const, resourceBody: { ...body, id, ticketId: id, type: "ticket" }, partitionKey: id },
    ];
    // A batch Cosmos DB refuses resolves with its code, not as an error (ticket-store.ts).
    tickets.items.batch(operations, id).then(
      ({ code }) =>
        code !== undefined && code < 400
          ? res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ id }))
          : res.writeHead(500).end(`batch: ${code}`),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
});
server.listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
