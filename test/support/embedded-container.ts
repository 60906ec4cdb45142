import type { Container, CosmosClient } from "@azure/cosmos";
import { bootstrapCosmos, connectCosmos, EMBEDDED_KEY, ticketsContainer } from "../../shared/adapters/cosmos/connect.js";
import type { EmbeddedCosmos } from "../../shared/local/embedded-cosmos.js";

/** A tickets container of its own `database` on an embedded endpoint, through the real SDK, for the length of `run`. */
export async function withContainer<T>(
  embedded: EmbeddedCosmos,
  database: string,
  run: (container: Container, client: CosmosClient) => Promise<T>,
): Promise<T> {
  const client = await connectCosmos({ endpoint: embedded.endpoint, key: EMBEDDED_KEY });
  try {
    await bootstrapCosmos(client, database);
    return await run(ticketsContainer(client, database), client);
  } finally {
    client.dispose();
  }
}
