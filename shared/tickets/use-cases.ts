import { z } from "zod";
import type { Principal } from "../kernel/principal.js";
import { Failure, invalid, isFailure } from "../kernel/failure.js";
import type { SlaPolicy } from "../sla/domain/policy.js";
import { isAgent } from "../kernel/principal.js";
import { commentOnTicket, type Commented } from "./comment-on-ticket.js";
import * as commands from "./domain/commands.js";
import type { BroadcastInput, CommentInput, EscalateInput, MoveInput, OpenInput, TriageInput } from "./domain/inputs.js";
import type { AgentRef, Ticket, TicketRef } from "./domain/model.js";
import type { Change } from "./domain/change.js";
import { slaTimer } from "./domain/sla.js";
import type { Randomness } from "./ids.js";
import { InFlightKeys, keyHashOf, keyReused, type IdempotencyOptions } from "./idempotency.js";
import { openTicket, type Opened } from "./open-ticket.js";
import type { AgentLookup, AttachmentCheck, ListPage, ListPosition, StoredTicket, TicketRecord, TicketStore } from "./ports.js";
import { getTicket, listTickets, ticketTimeline, type ListRequest, type TimelinePage } from "./read-tickets.js";
import { TicketWriter, type Updated, type WriteOptions } from "./ticket-writer.js";
import { TimelineSeal } from "./timeline-seal.js";

/**
 * The ticket use cases, as the HTTP handlers call them. Each is a module of its own
 * (open-ticket.ts, comment-on-ticket.ts, read-tickets.ts) or, for the plain commands,
 * one line here: load, decide with the domain command, write one batch (TicketWriter).
 */
export interface TicketUseCases {
  open(caller: Principal, input: OpenInput, options: { requestId: string; idempotency?: IdempotencyOptions }): Promise<Opened>;
  get(caller: Principal, id: string): Promise<StoredTicket>;
  list(caller: Principal, query: ListRequest): Promise<ListPage>;
  /** No page when `unchanged` says the caller has this version already (a conditional GET). */
  timeline(
    caller: Principal,
    id: string,
    cursor: string | undefined,
    limit: number,
    unchanged?: (etag: string) => boolean,
  ): Promise<TimelinePage>;
  triage(caller: Principal, id: string, input: TriageInput, options: WriteOptions): Promise<Updated>;
  /** `agentId` null unassigns. */
  assign(caller: Principal, id: string, agentId: string | null, options: WriteOptions): Promise<Updated>;
  /** With `cascade` (an incident's), the same move on each of its reports: `broadcastId` follows it. */
  move(caller: Principal, id: string, input: MoveInput, options: WriteOptions): Promise<Updated & { broadcastId?: string }>;
  comment(
    caller: Principal,
    id: string,
    input: CommentInput,
    options: WriteOptions & { idempotency?: IdempotencyOptions },
  ): Promise<Commented>;
  acknowledge(caller: Principal, id: string, options: WriteOptions): Promise<Updated>;
  /** An agent pages ops by hand, with their reason. */
  escalate(caller: Principal, id: string, input: EscalateInput, options: WriteOptions): Promise<Updated>;
  /**
   * The escalation notifier's own write: a channel got an alert. The record goes in the
   * same batch, so recording one delivery twice fails on it (Failure "exists").
   */
  recordDelivery(ticketId: string, delivery: commands.Delivery, record: TicketRecord): Promise<void>;
  /**
   * The ticket's SLA timer came: whatever warning or breach is due by now. False when the
   * ticket is gone.
   */
  slaTimer(ticketId: string, requestId: string): Promise<boolean>;
  /**
   * The malware scan found an attached file malicious: an internal entry says so, once (its
   * record in the same batch, read before deciding, as a comment's receipt is).
   */
  markMalicious(ticketId: string, file: commands.MaliciousFile, requestId: string): Promise<void>;
  /** An agent links the report `id` to the incident `parentId` (409 on the refusals of commands.linkParent; 400 naming ticketId if there is no such ticket). */
  link(caller: Principal, id: string, parentId: string, options: WriteOptions): Promise<Updated>;
  unlink(caller: Principal, id: string, options: WriteOptions): Promise<Updated>;
  /** The incident hears of a report linked or unlinked, once per `key`. False when the incident is gone. */
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
}

/** GET /api/tickets/{id}/broadcasts/{broadcastId}: `total` once every page of reports was sent their command. */
export interface BroadcastStatus {
  id: string;
  state: "running" | "done";
  total: number | null;
  done: number;
  skipped: { ticketId: string; why: string }[];
}

export interface TicketDeps {
  store: TicketStore;
  writer: TicketWriter;
  agents: AgentLookup;
  randomness: Randomness;
  now: () => Date;
  /** The SLA policy in force, as the writer gets it (a timer only warns and breaches: any version does). */
  slaPolicy: () => Promise<SlaPolicy>;
  /** Checks the files a comment names (shared/attachments/); without it, naming one is refused. */
  attachments?: AttachmentCheck;
}

export function ticketUseCases(deps: TicketDeps): TicketUseCases {
  const { store, writer, agents, randomness } = deps;
  const now = () => deps.now().toISOString();
  const inFlight = new InFlightKeys();
  const seal = new TimelineSeal(randomness.hash, randomness.randomHex);
  return {
    open: (caller, input, options) =>
      openTicket({ store, writer, randomness, now: deps.now, inFlight, attachments: deps.attachments }, caller, input, options),
    get: (caller, id) => getTicket(writer, caller, id),
    list: (caller, query) => listTickets({ store, writer, hash: randomness.hash }, caller, query),
    timeline: (caller, id, cursor, limit, unchanged) => ticketTimeline({ writer, store, seal }, caller, id, cursor, limit, unchanged),
    triage: (caller, id, input, options) => writer.update(caller, id, options, (t) => commands.triage(t, caller, input, now())),
    async assign(caller, id, agentId, options) {
      let agent: AgentRef | null = null;
      // A requester is refused by the command itself (404 or 403), before any lookup.
      if (agentId !== null && isAgent(caller)) {
        const known = await agents.find(agentId);
        if (!known) throw invalid("Unknown agent.", "agentId", "No agent with this id has used the help desk.");
        // The ticket names its assignee by id and name only: the directory's other fields stay there.
        agent = { id: known.id, name: known.name };
      }
      return writer.update(caller, id, options, (t) => commands.assign(t, caller, agent, now()));
    },
    async move(caller, id, input, options) {
      if (!input.cascade) return writer.update(caller, id, options, (t) => commands.move(t, caller, input, now()));
      const broadcastId = randomness.randomHex().slice(0, 24);
      const updated = await writer.update(caller, id, options, (t) => commands.move(t, caller, input, now(), broadcastId), {
        records: () => [broadcastRecord(broadcastId, "move", caller)],
      });
      return { ...updated, broadcastId };
    },
    comment: (caller, id, input, options) =>
      commentOnTicket(
        { store, writer, hash: randomness.hash, now: deps.now, inFlight, seal, attachments: deps.attachments },
        caller,
        id,
        input,
        options,
      ),
    acknowledge: (caller, id, options) => writer.update(caller, id, options, (t) => commands.acknowledge(t, caller, now())),
    escalate: (caller, id, input, options) => writer.update(caller, id, options, (t) => commands.escalate(t, caller, input, now())),
    async recordDelivery(ticketId, delivery, record) {
      // A null caller is the system: it sees every ticket.
      await writer.update(null, ticketId, { requestId: delivery.messageId }, (t) => commands.recordDelivery(t, delivery, now()), {
        records: () => [record],
      });
    },
    async slaTimer(ticketId, requestId) {
      const policy = await deps.slaPolicy();
      try {
        await writer.update(null, ticketId, { requestId }, (t) => slaTimer(t, policy, now()));
        return true;
      } catch (e) {
        if (isFailure(e, "not_found")) return false;
        throw e;
      }
    },
    markMalicious: (ticketId, file, requestId) =>
      once(ticketId, commands.maliciousRecordId(file.attachmentId), "malicious", requestId, (t) => commands.markMalicious(t, file, now())),
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
        : randomness.randomHex().slice(0, 24);
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
        store.record(id, `broadcast-${broadcastId}`, SaidRecord),
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
              done = (await store.record(childId, receiptId, SaidRecord)) !== null;
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

  /**
   * The system's change to a ticket, made once: its record (`recordId`) goes in the change's
   * batch, and is read before deciding, as a comment's receipt is (comment-on-ticket.ts).
   */
  async function once(
    ticketId: string,
    recordId: string,
    type: TicketRecord["type"],
    requestId: string,
    decide: (t: Ticket) => Change,
  ): Promise<void> {
    let done = false;
    await writer.update(null, ticketId, { requestId }, (t) => (done ? commands.noChange(t) : decide(t)), {
      load: async () => {
        done = (await store.record(ticketId, recordId, SaidRecord)) !== null;
      },
      records: () => [{ id: recordId, type }],
    });
  }
}

const SaidRecord = z.object({ id: z.string() });
const TotalRecord = z.object({ total: z.number().int().min(0) });
const BroadcastRecord = z.object({ requestHash: z.string().optional() });
const ReportLinkRecord = z.object({ seq: z.number().int().min(1), linked: z.boolean() });
