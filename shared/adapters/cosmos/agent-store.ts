import type { Container, JSONObject } from "@azure/cosmos";
import type { Agent, AgentStore } from "../../agents/ports.js";
import { AGENTS_PARTITION, agentDocId, fromAgentDoc, toAgentDoc } from "./documents.js";
import { pointRead, translated } from "./errors.js";

/** The agent directory: a reserved partition of the tickets container (DESIGN.md section 5). */
export class CosmosAgentStore implements AgentStore {
  constructor(private readonly container: Container) {}

  async putAgent(agent: Agent): Promise<void> {
    await translated(() => this.container.items.upsert(toAgentDoc(agent)));
  }

  async getAgent(id: string): Promise<Agent | null> {
    const doc = await pointRead(() => this.container.item(agentDocId(id), AGENTS_PARTITION).read<JSONObject>());
    return doc ? fromAgentDoc(doc) : null;
  }

  async listAgents(): Promise<Agent[]> {
    const { resources } = await translated(() =>
      this.container.items
        .query<JSONObject>("SELECT * FROM c WHERE c.type = 'agent' ORDER BY c.name ASC", { partitionKey: AGENTS_PARTITION })
        .fetchAll(),
    );
    return resources.map(fromAgentDoc);
  }
}
