import * as z from "zod";

/** An agent known to the help desk: someone with the agent role who has called the API. */
export const Agent = z.object({ id: z.string(), name: z.string(), email: z.string().nullable(), firstSeenAt: z.iso.datetime() });
export type Agent = z.infer<typeof Agent>;

/** Where the directory is kept (the Cosmos DB adapter: a reserved partition of `tickets`). */
export interface AgentStore {
  putAgent(agent: Agent): Promise<void>;
  getAgent(id: string): Promise<Agent | null>;
  /** By name. */
  listAgents(): Promise<Agent[]>;
}
