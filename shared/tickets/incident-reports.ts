import * as z from "zod";
import { Failure, isFailure } from "../kernel/failure.js";
import { isAgent, type Principal } from "../kernel/principal.js";
import * as commands from "./domain/commands.js";
import type { BroadcastInput, MoveInput } from "./domain/inputs.js";
import type { Randomness } from "./ids.js";
import { keyHashOf, keyReused, RecordThere, type IdempotencyOptions } from "./idempotency.js";
import type { ListPage, ListPosition, TicketRecord, TicketStore } from "./ports.js";
import type { TicketRef } from "./domain/model.js";
import type { TicketWriter, Updated, WriteOptions } from "./ticket-writer.js";

/**
 * The tickets' side of major incidents (issue "Major incidents"): linking a report to its
 * incident, the incident's count of reports, and a broadcast (or a cascading move) from an
 * incident to its reports, each report's change an ordinary command of its own ticket, made
 * once (its receipt in its batch). shared/incidents/ carries the fan-out through the
 * `ticket-commands` queue and calls these.
 */

/** GET /api/tickets/{id}/broadcasts/{broadcastId}: `total` once every page of reports was sent their command. */
export interface BroadcastStatus {
  id: string;
  state: "running" | "done";
  total: number | null;
  done: number;
  skipped: { ticketId: string; why: string }[];
}

export interface IncidentUseCases {
  /** An agent links the report `id` to the incident `parentId` (409 on the refusals of commands.linkParent; 400 naming ticketId if there is no such ticket). */
  link(caller: Principal, id: string, parentId: string, options: WriteOptions): Promise<Updated>;
  unlink(caller: Principal, id: string, options: WriteOptions): Promise<Updated>;
  /** The incident hears of a report linked or unlinked by the report's entry `seq` (an older word changes nothing). False when the incident is gone. */
  countChild(parentId: string, child: TicketRef, linked: boolean, seq: number, requestId: string): Promise<boolean>;
  /** An incident that could not take a report has it unlinked, and why said. */
  dropParent(childId: string, parentId: string, why: string, requestId: string): Promise<void>;
  /** An agent's public reply on an incident and, through the queue, on each of its reports. */
  broadcast(
    caller: Principal,
    id: string,
    input: BroadcastInput,
    options: WriteOptions & { idempotency?: IdempotencyOptions },
  ): Promise<Updated & { broadcastId: string; replayed: boolean }>;
  /** How far a broadcast (or a cascading move) is: agents only. */
  broadcastStatus(caller: Principal, id: string, broadcastId: string): Promise<BroadcastStatus>;
  /** A page of an incident's reports, in a fixed order, for a fan-out. */
  reportsOf(parentId: string, after: ListPosition | null, limit: number): Promise<ListPage>;
  /** A broadcast's fan-out reached its last report: `total` of them. */
  fannedOut(parentId: string, broadcastId: string, total: number): Promise<void>;
  /** A broadcast's change on one report, once: done, or skipped with why. */
  applyBroadcast(command: {
    parentId: string;
    broadcastId: string;
    childId: string;
    action: commands.BroadcastAction;
    actor: { id: string; name: string; role: "agent" | "admin" };
    requestId: string;
  }): Promise<"done" | "skipped" | "gone">;
  /** A cascading move (`cascade: true`): the incident's move, and a broadcast of it to its reports. */
  cascade(caller: Principal, id: string, input: MoveInput, options: WriteOptions): Promise<Updated & { broadcastId: string }>;
}

export interface IncidentDeps {
  store: TicketStore;
  writer: TicketWriter;
  randomness: Randomness;
  /** The clock, as an ISO 8601 string. */
  now: () => string;
}

export function incidentUseCases({ store, writer, randomness, now }: IncidentDeps): IncidentUseCases {
  const newBroadcastId = () => randomness.randomHex().slice(0, 24);
  return {
    async link(caller, id, parentId, options) {
      // Read afresh for its rules (not a child, not closed), and only for an agent: a requester is refused first.
      const parent = isAgent(caller) ? ((await writer.read(parentId))?.ticket ?? null) : null;
      return writer.update(caller, id, options, (t) => commands.linkParent(t, caller, parent, now()));
    },
    unlink: (caller, id, options) => writer.update(caller, id, options, (t) => commands.unlinkParent(t, caller, now())),
    async broadcast(caller, id, input, options) {
      // With an Idempotency-Key the broadcast's id is the key's: a retry finds its record (read
      // after the ticket, as a comment's receipt is) and posts nothing again.
      const idem = options.idempotency;
      const broadcastId = idem
        ? randomness.hash(`broadcast:${id}:${keyHashOf(randomness.hash, caller, idem.key)}`).slice(0, 24)
        : newBroadcastId();
      let first: { requestHash?: string } | null = null;
      const updated = await writer.update(
        caller,
        id,
        options,
        (t) => {
          if (first && first.requestHash !== idem?.requestHash) throw keyReused();
          return first ? commands.noChange(t) : commands.broadcast(t, caller, input, broadcastId, now());
        },
        {
          load: async () => {
            if (idem) first = await store.record(id, `broadcast-${broadcastId}`, BroadcastRecord);
          },
          isReplay: () => first !== null,
          records: () => [{ ...broadcastRecord(broadcastId, "reply", caller), ...(idem ? { requestHash: idem.requestHash } : {}) }],
        },
      );
      return { ...updated, broadcastId, replayed: first !== null };
    },
    async broadcastStatus(caller, id, broadcastId) {
      if (!isAgent(caller)) throw new Failure("forbidden", "Only agents may follow a broadcast.");
      const [started, total] = await Promise.all([
        store.record(id, `broadcast-${broadcastId}`, RecordThere),
        store.record(id, `broadcast-${broadcastId}-total`, TotalRecord),
      ]);
      if (!started) throw new Failure("not_found", "No such broadcast.");
      const receipts = await store.broadcastReceipts(broadcastId);
      const skipped = receipts.filter((r) => r.outcome === "skipped").map((r) => ({ ticketId: r.ticketId, why: r.why ?? "" }));
      const done = receipts.length - skipped.length;
      const finished = total !== null && receipts.length >= total.total;
      return { id: broadcastId, state: finished ? "done" : "running", total: total?.total ?? null, done, skipped };
    },
    reportsOf: (parentId, after, limit) =>
      store.list({ sort: "created", view: "agent", parent: parentId, after: after ?? undefined, limit }),
    // Said once: a delivery of the last page again finds it said.
    fannedOut: (parentId, broadcastId, total) =>
      putOnce(parentId, { id: `broadcast-${broadcastId}-total`, type: "broadcast_total", total }),
    async applyBroadcast({ parentId, broadcastId, childId, action, actor, requestId }) {
      const caller: Principal = { id: actor.id, name: actor.name, email: null, role: actor.role };
      const receiptId = `bcast-${broadcastId}`;
      const receipt = (outcome: "done" | "skipped", why?: string): TicketRecord => ({
        id: receiptId,
        type: "broadcast_receipt",
        broadcastId,
        parentId,
        outcome,
        ...(why ? { why } : {}),
      });
      let done = false;
      try {
        const updated = await writer.update(
          caller,
          childId,
          { requestId },
          (t) => (done ? commands.noChange(t) : commands.applyBroadcast(t, caller, parentId, action, now())),
          {
            load: async () => {
              done = (await store.record(childId, receiptId, RecordThere)) !== null;
            },
            records: () => [receipt("done")],
          },
        );
        // Nothing to change (in that status already): done all the same.
        if (updated.entries.length === 0 && !done) await putOnce(childId, receipt("done"));
        return "done";
      } catch (e) {
        if (isFailure(e, "not_found")) return "gone";
        // The report's state does not allow it (closed, a move nobody makes from its status, unlinked): skipped, and why.
        if (!(e instanceof Failure) || !["conflict", "forbidden", "invalid"].includes(e.kind)) throw e;
        await putOnce(childId, receipt("skipped", e.message));
        return "skipped";
      }
    },
    async countChild(parentId, child, linked, seq, requestId) {
      const recordId = `report-${child.id}`;
      let prior: commands.ReportLink | null = null;
      const record = (counted: boolean): TicketRecord => ({ id: recordId, type: "report_link", seq, linked: counted, upsert: true });
      try {
        await writer.update(null, parentId, { requestId }, (t) => commands.countChild(t, child, linked, seq, prior, now()), {
          load: async () => {
            prior = await store.record(parentId, recordId, ReportLinkRecord);
          },
          // Counted, unless the incident refused it.
          records: (change) => [record(linked && !change.entries.some((e) => e.type === "link_refused"))],
        });
        return true;
      } catch (e) {
        if (isFailure(e, "not_found")) return false;
        throw e;
      }
    },
    async dropParent(childId, parentId, why, requestId) {
      try {
        await writer.update(null, childId, { requestId }, (t) => commands.dropParent(t, parentId, why, now()));
      } catch (e) {
        if (!isFailure(e, "not_found")) throw e;
      }
    },
    async cascade(caller, id, input, options) {
      const broadcastId = newBroadcastId();
      const updated = await writer.update(caller, id, options, (t) => commands.move(t, caller, input, now(), broadcastId), {
        records: () => [broadcastRecord(broadcastId, "move", caller)],
      });
      return { ...updated, broadcastId };
    },
  };

  /** A record stored once: one there already (a delivery before this one) is the same word. */
  async function putOnce(ticketId: string, record: TicketRecord): Promise<void> {
    try {
      await store.putRecord(ticketId, record);
    } catch (e) {
      if (!isFailure(e, "exists")) throw e;
    }
  }

  function broadcastRecord(broadcastId: string, action: "reply" | "move", caller: Principal): TicketRecord {
    return { id: `broadcast-${broadcastId}`, type: "broadcast", broadcastId, action, by: caller.id, startedAt: now() };
  }
}

const TotalRecord = z.object({ total: z.number().int().min(0) });
const BroadcastRecord = z.object({ requestHash: z.string().optional() });
const ReportLinkRecord = z.object({ seq: z.number().int().min(1), linked: z.boolean() });
