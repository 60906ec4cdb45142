import { Failure } from "../kernel/failure.js";
import { isAgent, type Principal } from "../kernel/principal.js";
import { DEFAULT_SLA_POLICY, type SlaPolicy, type SlaPolicyBody } from "./domain/policy.js";
import type { SlaPolicyStore } from "./ports.js";

/**
 * Reading and replacing the SLA policy: agents read it, admins replace it whole. Each
 * replacement is the next version; a replacement sent with the version it read (If-Match)
 * is refused (412) once another has replaced it, and two that race cannot both win.
 */
export interface SlaPolicyUseCases {
  read(caller: Principal): Promise<SlaPolicy>;
  replace(caller: Principal, body: SlaPolicyBody, ifMatchVersion: number | undefined): Promise<SlaPolicy>;
}

/** How many times a replacement without If-Match goes again after losing a race. */
const RACE_RETRIES = 3;

/** `replaced`: told of each replacement this instance stored (its changes then follow it at once). */
export function slaPolicyUseCases(store: SlaPolicyStore, replaced: (policy: SlaPolicy) => void = () => {}): SlaPolicyUseCases {
  const current = async () => (await store.get()) ?? { policy: DEFAULT_SLA_POLICY, etag: null };
  return {
    async read(caller) {
      if (!isAgent(caller)) throw new Failure("forbidden", "Only agents may read the SLA policy.");
      return (await current()).policy;
    },
    async replace(caller, body, ifMatchVersion) {
      if (caller.role !== "admin") throw new Failure("forbidden", "Only admins may replace the SLA policy.");
      // Without If-Match, a replacement that loses a race to another simply goes on top of it.
      for (let attempt = 1; ; attempt++) {
        const { policy, etag } = await current();
        if (ifMatchVersion !== undefined && ifMatchVersion !== policy.version)
          throw new Failure("precondition_failed", "The SLA policy has changed since that version (If-Match).");
        const next: SlaPolicy = { ...body, version: policy.version + 1 };
        try {
          await store.put(next, etag);
          replaced(next);
          return next;
        } catch (e) {
          const lost = e instanceof Failure && (e.kind === "stale" || e.kind === "exists");
          if (!lost) throw e;
          if (ifMatchVersion !== undefined || attempt === RACE_RETRIES)
            throw new Failure("precondition_failed", "The SLA policy was replaced meanwhile; read it and try again.");
        }
      }
    },
  };
}
