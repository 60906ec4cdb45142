import type { Container, JSONObject } from "@azure/cosmos";
import * as z from "zod";
import { SlaPolicyBody, type SlaPolicy } from "../../sla/domain/policy.js";
import type { SlaPolicyStore } from "../../sla/ports.js";
import { parsed } from "./documents.js";
import { pointRead, translated } from "./errors.js";

/** Reference data's partition (DESIGN.md section 5), never a ticket's. */
export const CONFIG_PARTITION = "_config";
const POLICY_ID = "sla-policy";

const PolicyDoc = z.object({ version: z.int().min(1), calendar: z.unknown(), targets: z.unknown(), _etag: z.string() });

/** The SLA policy, one document of the tickets container's `_config` partition. */
export class CosmosSlaPolicyStore implements SlaPolicyStore {
  constructor(private readonly container: Container) {}

  async get(): Promise<{ policy: SlaPolicy; etag: string } | null> {
    const doc = await pointRead(() => this.container.item(POLICY_ID, CONFIG_PARTITION).read<JSONObject>());
    if (!doc) return null;
    const { version, calendar, targets, _etag } = parsed(PolicyDoc, doc, "SLA policy");
    // Read back through the schema it was written through: a policy this code cannot follow is a 500, never guessed at.
    return { policy: { version, ...parsed(SlaPolicyBody, { calendar, targets }, "SLA policy") }, etag: _etag };
  }

  async put(policy: SlaPolicy, readEtag: string | null): Promise<void> {
    const doc = { ...policy, id: POLICY_ID, ticketId: CONFIG_PARTITION, type: "sla_policy" };
    // A create when none was read ("exists" if one appeared meanwhile), else a replace of the one read ("stale").
    await translated(() =>
      readEtag === null
        ? this.container.items.create(doc)
        : this.container.item(POLICY_ID, CONFIG_PARTITION).replace(doc, { accessCondition: { type: "IfMatch", condition: readEtag } }),
    );
  }
}
