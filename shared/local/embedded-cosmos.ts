import type { AddressInfo } from "node:net";
import { createHttpServer } from "@vercel/cosmosdb-server";

/**
 * The embedded Cosmos DB endpoint for the local host and the tests: in memory,
 * spoken to over HTTP by the real @azure/cosmos client. `requests` counts what
 * it receives, which is how round trips per command are measured.
 */
export interface EmbeddedCosmos {
  endpoint: string;
  requests: () => number;
  close: () => Promise<void>;
}

export async function startEmbeddedCosmos(port = 0): Promise<EmbeddedCosmos> {
  const server = createHttpServer({ keepAlive: true });
  let requests = 0;
  server.on("request", () => {
    requests++;
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
