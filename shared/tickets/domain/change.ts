import type { Principal } from "../../kernel/principal.js";
import type { SlaTimer } from "../../sla/domain/timers.js";
import { followEscalation, isEscalationWorthy } from "./escalation.js";
import { requesterShape } from "./visibility.js";
import {
  entryId,
  TimelineEntry,
  type Actor,
  type EntryData,
  type EntryType,
  type Ticket,
  type Visibility,
  publicRevisionOf,
  publicUpdatedAtOf,
} from "./model.js";

/**
 * What one command does to a ticket: the ticket as it becomes, its new timeline
 * entries, the events other parts of the system must hear of, and the SLA timers it
 * sets. The use case stores all of it in one batch; the events and timers go through
 * the outbox (DESIGN.md section 6).
 */
export interface Change {
  ticket: Ticket;
  entries: TimelineEntry[];
  events: TicketEvent[];
  /** The SLA timers to schedule (sla.ts); none when the change moved no due time. */
  timers?: SlaTimer[];
}

/** The entries that record a change of the escalation, which ops must hear of. */
export type EscalationEntry = Extract<TimelineEntry, { type: "escalation_triggered" | "escalation_acknowledged" | "escalation_resolved" }>;
export type SlaBreachedEntry = Extract<TimelineEntry, { type: "sla_breached" }>;
export type SlaNoticeEntry = Extract<TimelineEntry, { type: "sla_warning" | "sla_breached" }>;

/** What ops must be told of a change. */
export type TicketEvent =
  /** An escalation raised, acknowledged or resolved. */
  | { type: "escalation.triggered" | "escalation.acknowledged" | "escalation.resolved"; entry: EscalationEntry }
  /** An SLA target breached on a business-impacting ticket: a page, on every channel. */
  | { type: "escalation.sla_breached"; entry: SlaBreachedEntry }
  /** A warning, or a breach on any other ticket: a notice to the generic webhook. */
  | { type: "sla.warning" | "sla.breached"; entry: SlaNoticeEntry };

const EVENT_OF: Record<EscalationEntry["type"], "escalation.triggered" | "escalation.acknowledged" | "escalation.resolved"> = {
  escalation_triggered: "escalation.triggered",
  escalation_acknowledged: "escalation.acknowledged",
  escalation_resolved: "escalation.resolved",
};

const isEscalationEntry = (entry: TimelineEntry): entry is EscalationEntry => Object.hasOwn(EVENT_OF, entry.type);

/**
 * The events of a change's entries. A breach pages ops if the ticket is business-impacting in
 * any of `impact`: as the change leaves it, and for a breach a person's change caught late, as
 * it was before (a late breach recorded by the resolve that ends an emergency still pages).
 */
export function eventsOf(entries: TimelineEntry[], ...impact: Ticket[]): TicketEvent[] {
  const pages = impact.some(isEscalationWorthy);
  return entries.flatMap((entry): TicketEvent[] => {
    if (isEscalationEntry(entry)) return [{ type: EVENT_OF[entry.type], entry }];
    if (entry.type === "sla_warning") return [{ type: "sla.warning", entry }];
    if (entry.type === "sla_breached") return [{ type: pages ? "escalation.sla_breached" : "sla.breached", entry }];
    return [];
  });
}

/**
 * The system's own entries (of the SLA clock) after a change a person made: numbered on
 * from the change's, internal, and no change of the person's (its revisions stay as they are).
 * `before`: the ticket before the change (eventsOf: whether a breach pages).
 */
export function appendSystemEntries(
  change: Change,
  actor: Actor,
  now: string,
  added: { [T in EntryType]: { type: T; data: EntryData<T> } }[EntryType][],
  before: Ticket,
): Change {
  let seq = change.ticket.version;
  const entries = added.map(({ type, data }) => {
    seq += 1;
    return TimelineEntry.parse({ id: entryId(seq), seq, type, at: now, actor, visibility: "internal", data });
  });
  const ticket = { ...change.ticket, version: seq };
  return { ...change, ticket, entries: [...change.entries, ...entries], events: [...change.events, ...eventsOf(entries, ticket, before)] };
}

/** The public view of an entry type: what a requester may see of their ticket's history. */
const PUBLIC_TYPES: ReadonlySet<EntryType> = new Set(["opened", "status_changed", "incident_linked"]);

export const actorOf = (p: Principal): Actor => ({ id: p.id, name: p.name, role: p.role });

/**
 * Collects one command's result: the ticket as it becomes, and its timeline
 * entries numbered from the ticket's version. Finishing it applies the escalation
 * policy, so every change that makes a ticket business-impacting raises an
 * escalation, and every change that stops it resolves one.
 */
export class ChangeBuilder {
  readonly entries: TimelineEntry[] = [];
  ticket: Ticket;

  constructor(
    private readonly before: Ticket | null,
    start: Ticket,
    private readonly actor: Actor,
    private readonly now: string,
  ) {
    this.ticket = start;
  }

  /**
   * An entry of `type`, with that type's data: the shapes of ENTRY_DATA (model.ts), which
   * the timeline's schema and the OpenAPI document are made of. Parsed, so that what is
   * stored is exactly what the schema says (the types already hold every caller to it).
   */
  add<T extends EntryType>(type: T, data: EntryData<T>, visibility?: Visibility): void {
    const seq = this.nextSeq;
    this.entries.push(
      TimelineEntry.parse({
        id: entryId(seq),
        seq,
        type,
        at: this.now,
        actor: this.actor,
        visibility: visibility ?? (PUBLIC_TYPES.has(type) ? "public" : "internal"),
        data,
      }),
    );
  }

  /** The sequence the next entry gets. */
  get nextSeq(): number {
    return (this.before?.version ?? 0) + this.entries.length + 1;
  }

  /**
   * `reason` is the caller's, if they gave one: it is why an escalation was raised or
   * resolved. The policy keeps it only from an agent (escalation.ts).
   */
  done(reason?: string): Change {
    if (this.entries.length === 0) return { ticket: this.before ?? this.ticket, entries: [], events: [] };
    const step = followEscalation(this.before, this.ticket, this.now, this.nextSeq, { role: this.actor.role, reason });
    if (step) {
      this.ticket = { ...this.ticket, escalation: step.escalation };
      this.add(step.entry.type, step.entry.data);
    }
    const version = (this.before?.version ?? 0) + this.entries.length;
    const events = eventsOf(this.entries, this.ticket);
    // The system's own records (alert deliveries) are no change a person made (revision) nor
    // one a requester sees; an agent sees them (a page counted), so their updatedAt moves,
    // and a sync by updatedSince brings them.
    if (this.actor.role === "system") return { ticket: { ...this.ticket, version, updatedAt: this.now }, entries: this.entries, events };
    const revision = (this.before?.revision ?? 0) + 1;
    // A requester's ETag and updatedAt move only with what they can see (visibility.ts).
    const before = this.before;
    // Seen: a public entry (a reply, a status change), or a field of their view that changed.
    const seen = !before || this.entries.some((e) => e.visibility === "public") || requesterShape(before) !== requesterShape(this.ticket);
    const publicRevision = (before ? publicRevisionOf(before) : 0) + (seen ? 1 : 0);
    const publicUpdatedAt = seen ? this.now : publicUpdatedAtOf(before);
    const ticket = { ...this.ticket, version, revision, updatedAt: this.now, publicRevision, publicUpdatedAt };
    return { ticket, entries: this.entries, events };
  }
}
