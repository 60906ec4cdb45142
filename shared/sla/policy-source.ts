import type { Scheduler } from "../kernel/scheduler.js";
import { DEFAULT_SLA_POLICY, type SlaPolicy } from "./domain/policy.js";
import type { SlaPolicyStore } from "./ports.js";

/**
 * The policy a ticket's change is judged by, kept by this instance for a few seconds: a write
 * would otherwise read it every time, one more round trip. Past that time the next change
 * still takes the kept one, and the policy is read again meanwhile (no write waits for it),
 * so a replacement reaches every instance within about that time, and each open ticket at its
 * next change after that (the "a changed policy applies to each open ticket at its
 * next change"). Only the first change of an instance waits for the read.
 */
export const POLICY_KEPT_MS = 10_000;

export interface PolicySource {
  /** `atLeast`: a version some ticket follows already; a policy kept that is older is read afresh. */
  (atLeast?: number): Promise<SlaPolicy>;
  /** This instance replaced the policy: its own changes follow the new one at once. */
  replaced(policy: SlaPolicy): void;
}

export function cachedPolicy(store: SlaPolicyStore, scheduler: Pick<Scheduler, "now">, keptMs = POLICY_KEPT_MS): PolicySource {
  let kept: { at: number; policy: SlaPolicy } | undefined;
  let reading: Promise<SlaPolicy> | undefined;
  const read = () => {
    reading ??= store
      .get()
      .then((stored) => {
        const policy = stored?.policy ?? DEFAULT_SLA_POLICY;
        // A replacement this instance made meanwhile is newer than what the read found.
        if (!kept || policy.version >= kept.policy.version) kept = { at: scheduler.now().getTime(), policy };
        return kept.policy;
      })
      // A read that failed is not kept: the next change reads again.
      .finally(() => (reading = undefined));
    return reading;
  };
  const source = async (atLeast = 0) => {
    if (!kept || kept.policy.version < atLeast) {
      // A read under way may have begun before the newer version was stored: then another.
      const policy = await read();
      return policy.version >= atLeast ? policy : read();
    }
    if (scheduler.now().getTime() - kept.at >= keptMs) read().catch(() => {});
    return kept.policy;
  };
  return Object.assign(source, {
    replaced(policy: SlaPolicy) {
      kept = { at: scheduler.now().getTime(), policy };
    },
  });
}
