import { Failure } from "../kernel/failure.js";
import { isAgent, type Principal } from "../kernel/principal.js";
import type { Agent, AgentStore } from "./ports.js";

/**
 * The agents known to the help desk (GET /api/agents), and the ones an assignment may
 * name. An agent becomes known the first time they call the API; their name and
 * email follow their token's.
 */
export class AgentDirectory {
  /** Agents this process has seen or looked up: their first call is written once. */
  private readonly known = new Map<string, Agent>();
  /** Agents whose call this process has recorded (a lookup by find() is not one). */
  private readonly remembered = new Set<string>();

  constructor(
    private readonly store: AgentStore,
    private readonly now: () => Date,
  ) {}

  /** Makes an agent known on their first call (once per process); requesters are not recorded. */
  async remember(caller: Principal): Promise<void> {
    if (!isAgent(caller) || this.remembered.has(caller.id)) return;
    const existing = await this.store.getAgent(caller.id);
    let current = existing;
    if (!current || current.name !== caller.name || current.email !== caller.email) {
      // A renamed agent is assigned under their new name from now on.
      current = { id: caller.id, name: caller.name, email: caller.email, firstSeenAt: existing?.firstSeenAt ?? this.now().toISOString() };
      await this.store.putAgent(current);
    }
    this.known.set(caller.id, current);
    this.remembered.add(caller.id);
  }

  /** The agent an assignment names, or null if no agent with this id has used the help desk. */
  async find(id: string): Promise<Agent | null> {
    const cached = this.known.get(id);
    if (cached) return cached;
    const agent = await this.store.getAgent(id);
    if (agent) this.known.set(id, agent);
    return agent;
  }

  async list(caller: Principal): Promise<Agent[]> {
    if (!isAgent(caller)) throw new Failure("forbidden", "Only agents may list agents.");
    return this.store.listAgents();
  }
}
