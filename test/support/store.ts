import { createHash, randomBytes, randomInt } from "node:crypto";
import { bootstrapCosmos, connectCosmos, ticketsContainer } from "../../shared/store/cosmos/connect.js";
import { startEmbeddedCosmos, type EmbeddedCosmos } from "../../shared/store/cosmos/embedded.js";
import { CosmosTicketStore } from "../../shared/store/cosmos/ticket-store.js";
import { TicketService } from "../../shared/tickets/service.js";

/** The Cosmos adapter against the embedded endpoint, over HTTP, with a service on top. */
export async function startStore() {
  const embedded: EmbeddedCosmos = await startEmbeddedCosmos();
  const client = await connectCosmos({ endpoint: embedded.endpoint, key: "embedded", database: "helpdesk" });
  await bootstrapCosmos(client, "helpdesk");
  const store = new CosmosTicketStore(ticketsContainer(client, "helpdesk"));
  let clock = Date.parse("2026-01-01T00:00:00.000Z");
  const newService = () =>
    new TicketService({
      store,
      // Each call a millisecond later, so creation order is total and repeatable.
      now: () => new Date(clock++),
      randomNumber: () => String(randomInt(10_000_000, 100_000_000)),
      randomHex: () => randomBytes(16).toString("hex"),
      hash: (text) => createHash("sha256").update(text).digest("hex"),
    });
  return {
    embedded,
    store,
    service: newService(),
    newService,
    close: async () => {
      client.dispose();
      await embedded.close();
    },
  };
}
