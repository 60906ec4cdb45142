import * as z from "zod";
import { isAgent, type Principal } from "../../kernel/principal.js";
import { endpoint, type HttpHandler, type HttpContext } from "../../adapters/http/endpoint.js";
import type { AgentDirectory } from "../directory.js";
import { Agent } from "../ports.js";

export const AgentList = z.object({ items: z.array(Agent.meta({ id: "Agent" })) }).meta({ id: "AgentList" });

/** GET /api/agents. */
export function agentHandlers(http: HttpContext, directory: () => Promise<AgentDirectory>): Record<string, HttpHandler> {
  return {
    listAgents: endpoint(http, { auth: true }, async (call) => ({
      status: 200,
      body: { items: await (await directory()).list(call.principal) },
    })),
  };
}

/**
 * Every authenticated call also makes its caller known to the directory, if they are
 * an agent: the directory has no other way to learn who the agents are.
 */
export function rememberingAgents(
  authenticate: (authorization: string | null) => Promise<Principal>,
  directory: () => Promise<AgentDirectory>,
): (authorization: string | null) => Promise<Principal> {
  return async (authorization) => {
    const principal = await authenticate(authorization);
    if (isAgent(principal)) await (await directory()).remember(principal);
    return principal;
  };
}
