import type { SlaPolicy } from "./domain/policy.js";

/** Where the one SLA policy is kept (DESIGN.md section 5: reserved partitions hold reference data). */
export interface SlaPolicyStore {
  /** The stored policy and its store etag, or null while none was ever stored (the defaults apply). */
  get(): Promise<{ policy: SlaPolicy; etag: string } | null>;
  /**
   * Stores `policy` if the stored one is still the one read: its store etag, or none stored
   * (`null`). Failure "stale" otherwise (a replacement that lost a race).
   */
  put(policy: SlaPolicy, readEtag: string | null): Promise<void>;
}
