import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { bootstrapCosmos, connectCosmos, ticketsContainer } from "../../shared/adapters/cosmos/connect.js";
import { startEmbeddedCosmos } from "../../shared/local/embedded-cosmos.js";

/**
 * The embedded endpoint's query engine (@zeit/cosmosdb-query, with @babel/* and @turf/turf:
 * most of its weight) is loaded by its replica's worker thread only, never by the thread that
 * serves the host's requests (patches/@vercel+cosmosdb-server+1.0.1.patch): what the local
 * host's cold start no longer pays for. Its own file, so that no other test loads the engine.
 */
const require = createRequire(import.meta.url);
const engineLoaded = () => Object.keys(require.cache).some((path) => path.includes("@zeit/cosmosdb-query"));

describe("the embedded endpoint's thread", () => {
  it("answers creates, reads, queries and reads of its collections without loading the query engine", async () => {
    const embedded = await startEmbeddedCosmos();
    const client = await connectCosmos({ endpoint: embedded.endpoint, key: "embedded" });
    try {
      await bootstrapCosmos(client, "lazy");
      const container = ticketsContainer(client, "lazy");
      await container.items.create({ id: "a", ticketId: "t1", type: "entry" });
      expect((await container.item("a", "t1").read()).resource).toMatchObject({ id: "a" });
      const { resources } = await container.items.query("SELECT VALUE c.id FROM c", { partitionKey: "t1" }).fetchAll();
      expect(resources).toEqual(["a"]);
      expect((await client.databases.readAll().fetchAll()).resources.map((d) => d.id)).toContain("lazy");
      expect(engineLoaded()).toBe(false);
      // The probe sees the engine once this thread loads it.
      require("@zeit/cosmosdb-query");
      expect(engineLoaded()).toBe(true);
    } finally {
      client.dispose();
      await embedded.close();
    }
  });
});
