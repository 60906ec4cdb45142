import { CosmosAgentStore } from "../../shared/adapters/cosmos/agent-store.js";
import { bootstrapCosmos, connectCosmos, EMBEDDED_KEY, ticketsContainer } from "../../shared/adapters/cosmos/connect.js";
import { CosmosTicketStore } from "../../shared/adapters/cosmos/ticket-store.js";
import { AgentDirectory } from "../../shared/agents/directory.js";
import { Deliveries } from "../../shared/escalation/deliveries.js";
import { DEFAULT_SLA_POLICY } from "../../shared/sla/domain/policy.js";
import { ticketOutbox } from "../../shared/app/composition.js";
import { startEmbeddedCosmos, type EmbeddedCosmos } from "../../shared/local/embedded-cosmos.js";
import { systemRandomness } from "../../shared/tickets/ids.js";
import { TicketWriter, type Backoff } from "../../shared/tickets/ticket-writer.js";
import { ticketUseCases } from "../../shared/tickets/use-cases.js";

/**
 * The Cosmos adapter against the embedded endpoint, over HTTP, with the use cases on
 * top, wired as the composition root wires them. Each `newService()` is another
 * instance of the API (its own cache and directory) on the same store. `embedded`: an
 * endpoint already started (and filled), rather than a new empty one.
 */
export async function startStore(options: { embedded?: EmbeddedCosmos } = {}) {
  const embedded: EmbeddedCosmos = options.embedded ?? (await startEmbeddedCosmos());
  const client = await connectCosmos({ endpoint: embedded.endpoint, key: EMBEDDED_KEY });
  await bootstrapCosmos(client, "helpdesk");
  const container = ticketsContainer(client, "helpdesk");
  const store = new CosmosTicketStore(container);
  const agentStore = new CosmosAgentStore(container);
  let clock = Date.parse("2026-01-01T00:00:00.000Z");
  // Each call a millisecond later, so creation order is total and repeatable.
  const now = () => new Date(clock++);
  const randomness = systemRandomness;
  const newService = (writerDeps: { backoff?: Backoff } = {}) => {
    const writer = new TicketWriter({ store, outbox: ticketOutbox(), ...writerDeps });
    const directory = new AgentDirectory(agentStore, now);
    const tickets = ticketUseCases({ store, writer, agents: directory, randomness, now, slaPolicy: async () => DEFAULT_SLA_POLICY });
    const deliveries = new Deliveries({ store, timeline: tickets, hash: randomness.hash });
    return { tickets, directory, deliveries };
  };
  return {
    embedded,
    container,
    store,
    service: newService(),
    newService,
    close: async () => {
      client.dispose();
      await embedded.close();
    },
  };
}
