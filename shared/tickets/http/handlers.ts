import type * as z from "zod";
import { COSTS, endpoint, type Call, type HttpContext, type HttpHandler, type Reply } from "../../adapters/http/endpoint.js";
import { Failure, invalid } from "../../kernel/failure.js";
import { isAgent, type Principal } from "../../kernel/principal.js";
import type { Ticket } from "../domain/model.js";
import { entryView, notFound, ticketView } from "../domain/visibility.js";
import type { IdempotencyOptions } from "../idempotency.js";
import { sha256, TICKET_ID } from "../ids.js";
import { etagFor, type WriteOptions } from "../ticket-writer.js";
import type { TicketUseCases } from "../use-cases.js";
import { positionOf, queueCursor } from "./cursor.js";
import {
  AssignBody,
  BroadcastBody,
  BroadcastIdParam,
  ChildrenQuery,
  CommentBody,
  EscalateBody,
  ListTicketsQuery,
  MoveBody,
  OpenTicketBody,
  ParentBody,
  TimelineQuery,
  TriageBody,
} from "./schemas.js";

/** The ticket routes of DESIGN.md section 3: HTTP in, a use case, JSON out. */

/** ETags go out quoted (etagFor); If-Match may come quoted, weak or bare. */
const quote = (etag: string) => `"${etag}"`;
const unquote = (etag: string) => etag.trim().replace(/^W\//, "").replace(/"/g, "");

function writeOptions(call: Call): WriteOptions {
  const ifMatch = call.request.headers.get("if-match");
  return { requestId: call.requestId, ifMatch: ifMatch && ifMatch.trim() !== "*" ? unquote(ifMatch) : undefined };
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function idempotency(call: Call, raw: string): IdempotencyOptions | undefined {
  const key = call.request.headers.get("idempotency-key");
  if (key === null) return undefined;
  if (!IDEMPOTENCY_KEY.test(key))
    throw invalid("The Idempotency-Key header is invalid.", "Idempotency-Key", "1 to 255 printable ASCII characters.");
  const requestHash = sha256(`${call.request.method} ${call.url.pathname}\n${raw}`);
  return { key, requestHash };
}

/**
 * Whether the client has this version already (If-None-Match, RFC 9110 13.1.2: weak
 * comparison, a list, or `*`): then the answer is 304, with the ETag and no body.
 */
function hasVersion(call: Call, etag: string): boolean {
  const given = call.request.headers.get("if-none-match");
  if (given === null) return false;
  return given.trim() === "*" || given.split(",").some((tag) => unquote(tag) === etag);
}

const notModified = (etag: string): Reply => ({ status: 304, headers: { etag } });

function ticketReply(call: Call, status: number, { ticket }: { ticket: Ticket }, extra: Record<string, string> = {}): Reply {
  return { status, body: ticketView(ticket, call.principal), headers: { ...extra, etag: quote(etagFor(ticket, call.principal)) } };
}

/**
 * The {id} of a ticket route. Ids are what ticketIdOf makes; anything else names no
 * ticket, and never reaches the store (where a `#` or `\` would be an invalid
 * document id rather than a missing one).
 */
function ticketIdOf(call: Call): string {
  const id = call.param("id");
  if (!TICKET_ID.test(id)) throw notFound();
  return id;
}

const replayHeader = (replayed: boolean): Record<string, string> => (replayed ? { "idempotent-replayed": "true" } : {});

function resolveWho(value: string | undefined, caller: Principal): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === "me") return caller.id;
  if (value === "none") return null;
  return value;
}

const broadcastUrl = (ticketId: string, broadcastId: string) => `/api/tickets/${ticketId}/broadcasts/${broadcastId}`;

/** A page of the list, for the query given (the queue's, or an incident's reports'). */
async function listPage(call: Call, tickets: TicketUseCases, q: z.output<typeof ListTicketsQuery>): Promise<Reply> {
  const requester = resolveWho(q.requester, call.principal);
  if (requester === null) throw invalid("The query is invalid.", "requester", "Use me or a requester id.");
  const page = await tickets.list(call.principal, {
    number: q.number,
    sort: q.sort,
    updatedSince: q.updatedSince,
    statuses: q.status,
    priorities: q.priority,
    severities: q.severity,
    slaStates: q.sla,
    assignee: resolveWho(q.assignee, call.principal),
    requester,
    parent: q.parent === "none" ? null : q.parent,
    limit: q.limit,
    after: q.cursor ? positionOf(q.cursor, q.sort) : undefined,
  });
  return {
    status: 200,
    body: {
      items: page.items.map((s) => ticketView(s.ticket, call.principal)),
      nextCursor: page.next ? queueCursor(page.next) : null,
    },
  };
}

export function ticketHandlers(http: HttpContext, useCases: () => Promise<TicketUseCases>): Record<string, HttpHandler> {
  const authed = (run: (call: Call, tickets: TicketUseCases) => Promise<Reply>, cost?: number) =>
    endpoint(http, { auth: true, cost }, async (call) => run(call, await useCases()));

  return {
    openTicket: authed(async (call, tickets) => {
      const { value, raw } = await call.body(OpenTicketBody);
      const result = await tickets.open(call.principal, value, { requestId: call.requestId, idempotency: idempotency(call, raw) });
      const location = `/api/tickets/${result.ticket.id}`;
      return ticketReply(call, 201, result, { location, ...replayHeader(result.replayed) });
    }),

    listTickets: authed((call, tickets) => listPage(call, tickets, call.query(ListTicketsQuery)), COSTS.page),

    ticketChildren: authed(async (call, tickets) => {
      // Its reports are other requesters' tickets: an agent's list, of an incident there is.
      if (!isAgent(call.principal)) throw new Failure("forbidden", "Only agents may list an incident's reports.");
      const q = call.query(ChildrenQuery);
      const id = ticketIdOf(call);
      await tickets.get(call.principal, id);
      return listPage(call, tickets, { ...q, parent: id });
    }, COSTS.page),
    getTicket: authed(async (call, tickets) => {
      const stored = await tickets.get(call.principal, ticketIdOf(call));
      const etag = etagFor(stored.ticket, call.principal);
      return hasVersion(call, etag) ? notModified(quote(etag)) : ticketReply(call, 200, stored);
    }),

    triageTicket: authed(async (call, tickets) => {
      const { value } = await call.body(TriageBody);
      return ticketReply(call, 200, await tickets.triage(call.principal, ticketIdOf(call), value, writeOptions(call)));
    }),

    assignTicket: authed(async (call, tickets) => {
      const { value } = await call.body(AssignBody);
      return ticketReply(call, 200, await tickets.assign(call.principal, ticketIdOf(call), value.agentId, writeOptions(call)));
    }),

    linkParent: authed(async (call, tickets) => {
      const { value } = await call.body(ParentBody);
      return ticketReply(call, 200, await tickets.link(call.principal, ticketIdOf(call), value.ticketId, writeOptions(call)));
    }),

    unlinkParent: authed(async (call, tickets) =>
      ticketReply(call, 200, await tickets.unlink(call.principal, ticketIdOf(call), writeOptions(call))),
    ),

    unassignTicket: authed(async (call, tickets) =>
      ticketReply(call, 200, await tickets.assign(call.principal, ticketIdOf(call), null, writeOptions(call))),
    ),

    commentOnTicket: authed(async (call, tickets) => {
      const { value, raw } = await call.body(CommentBody);
      const id = ticketIdOf(call);
      const result = await tickets.comment(call.principal, id, value, { ...writeOptions(call), idempotency: idempotency(call, raw) });
      const headers = { location: `/api/tickets/${id}/timeline`, ...replayHeader(result.replayed), etag: quote(result.etag) };
      return { status: 201, body: entryView(result.entry, call.principal), headers };
    }),

    moveTicket: authed(async (call, tickets) => {
      const { value } = await call.body(MoveBody);
      const id = ticketIdOf(call);
      const moved = await tickets.move(call.principal, id, value, writeOptions(call));
      // A cascading move goes on to the incident's reports: where to follow it.
      return ticketReply(call, 200, moved, moved.broadcastId ? { location: broadcastUrl(id, moved.broadcastId) } : {});
    }),

    broadcastToReports: authed(async (call, tickets) => {
      const { value, raw } = await call.body(BroadcastBody);
      const id = ticketIdOf(call);
      const started = await tickets.broadcast(call.principal, id, value, { ...writeOptions(call), idempotency: idempotency(call, raw) });
      // Just started: nothing reached yet (built here, not read: the broadcast is written, whatever a read would say).
      // A replay answers where it stands now.
      const status = started.replayed
        ? await tickets.broadcastStatus(call.principal, id, started.broadcastId)
        : { id: started.broadcastId, state: "running", total: null, done: 0, skipped: [] };
      return {
        status: 202,
        body: status,
        headers: {
          location: broadcastUrl(id, started.broadcastId),
          etag: quote(etagFor(started.ticket, call.principal)),
          ...replayHeader(started.replayed),
        },
      };
    }),

    broadcastStatus: authed(async (call, tickets) => {
      const broadcastId = call.param("broadcastId");
      if (!BroadcastIdParam.safeParse(broadcastId).success) throw new Failure("not_found", "No such broadcast.");
      return { status: 200, body: await tickets.broadcastStatus(call.principal, ticketIdOf(call), broadcastId) };
    }),

    escalateTicket: authed(async (call, tickets) => {
      const { value } = await call.body(EscalateBody);
      return ticketReply(call, 200, await tickets.escalate(call.principal, ticketIdOf(call), value, writeOptions(call)));
    }),

    acknowledgeEscalation: authed(async (call, tickets) =>
      ticketReply(call, 200, await tickets.acknowledge(call.principal, ticketIdOf(call), writeOptions(call))),
    ),

    ticketTimeline: authed(async (call, tickets) => {
      const q = call.query(TimelineQuery);
      const { etag, page } = await tickets.timeline(call.principal, ticketIdOf(call), q.cursor, q.limit, (e) => hasVersion(call, e));
      // Weak: every page of one version shares it, and a nextCursor is sealed anew each time.
      const tag = `W/${quote(etag)}`;
      if (!page) return notModified(tag);
      const body = { items: page.entries.map((e) => entryView(e, call.principal)), nextCursor: page.nextCursor };
      return { status: 200, body, headers: { etag: tag } };
    }, COSTS.page),
  };
}
