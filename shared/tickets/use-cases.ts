import type { Principal } from "../kernel/principal.js";
import { invalid, isFailure } from "../kernel/failure.js";
import type { SlaPolicy } from "../sla/domain/policy.js";
import { isAgent } from "../kernel/principal.js";
import { commentOnTicket, type Commented } from "./comment-on-ticket.js";
import * as commands from "./domain/commands.js";
import type { CommentInput, EscalateInput, MoveInput, OpenInput, TriageInput } from "./domain/inputs.js";
import type { AgentRef, Ticket } from "./domain/model.js";
import type { Change } from "./domain/change.js";
import { slaTimer } from "./domain/sla.js";
import type { Randomness } from "./ids.js";
import { InFlightKeys, RecordThere, type IdempotencyOptions } from "./idempotency.js";
import { openTicket, type Opened } from "./open-ticket.js";
import type { AgentLookup, AttachmentCheck, ListPage, StoredTicket, TicketRecord, TicketStore } from "./ports.js";
import { getTicket, listTickets, ticketTimeline, type ListRequest, type TimelinePage } from "./read-tickets.js";
import { TicketWriter, type Updated, type WriteOptions } from "./ticket-writer.js";
import { TimelineSeal } from "./timeline-seal.js";
import { incidentUseCases, type IncidentUseCases } from "./incident-reports.js";

/**
 * The ticket use cases, as the HTTP handlers call them. Each is a module of its own
 * (open-ticket.ts, comment-on-ticket.ts, read-tickets.ts) or, for the plain commands,
 * one line here: load, decide with the domain command, write one batch (TicketWriter).
 */
export interface TicketUseCases extends IncidentUseCases {
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
  /**
   * The email service refused a requester's email for good: an internal entry says so, once
   * (`recordId`, the email's own record, in the same batch). False when the ticket is gone.
   */
  emailRefused(ticketId: string, refused: commands.RefusedEmail, recordId: string, requestId: string): Promise<boolean>;
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
  const incidents = incidentUseCases({ store, writer, randomness, now });
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
    move: (caller, id, input, options) =>
      input.cascade
        ? incidents.cascade(caller, id, input, options)
        : writer.update(caller, id, options, (t) => commands.move(t, caller, input, now())),
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
    async emailRefused(ticketId, refused, recordId, requestId) {
      try {
        await once(ticketId, recordId, "email", requestId, (t) => commands.recordEmailRefused(t, refused, now()));
        return true;
      } catch (e) {
        if (isFailure(e, "not_found")) return false;
        throw e;
      }
    },
    ...incidents,
  };

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
        done = (await store.record(ticketId, recordId, RecordThere)) !== null;
      },
      records: () => [{ id: recordId, type }],
    });
  }
}
