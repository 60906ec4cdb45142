import type { Scheduler } from "../kernel/scheduler.js";
import { DEFAULT_SLA_POLICY, type SlaPolicy } from "./domain/policy.js";
import type { SlaPolicyStore } from "./ports.js";

/**
 * The policy a ticket's change is judged by, kept by this instance for a few seconds: a write
 * would otherwise read it every time, one more round trip. A replacement reaches every
 * instance within that time, and each open ticket at its next change after that (the issue's
 * "a changed policy applies to each open ticket at its next change").
 */
export const POLICY_KEPT_MS = 10_000;

export interface PolicySource {
  (): Promise<SlaPolicy>;
  /** This instance replaced the policy: its own changes follow the new one at once. */
  replaced(policy: SlaPolicy): void;
}

export function cachedPolicy(store: SlaPolicyStore, scheduler: Pick<Scheduler, "now">, keptMs = POLICY_KEPT_MS): PolicySource {
  let kept: { at: number; policy: Promise<SlaPolicy> } | undefined;
  const source = () => {
    const now = scheduler.now().getTime();
    if (!kept || now - kept.at >= keptMs) {
      const policy = store.get().then((stored) => stored?.policy ?? DEFAULT_SLA_POLICY);
      kept = { at: now, policy };
      // A read that failed is not kept: the next change reads again.
      policy.catch(() => {
        if (kept?.policy === policy) kept = undefined;
      });
    }
    return kept.policy;
  };
  return Object.assign(source, {
    replaced(policy: SlaPolicy) {
      kept = { at: scheduler.now().getTime(), policy: Promise.resolve(policy) };
    },
  });
}
