import { createHash } from "node:crypto";
import type { App } from "../composition.js";
import { endpoint, type Call, type HttpHandler, type Reply } from "../http/endpoint.js";
import { AssignBody, CommentBody, ListTicketsQuery, MoveBody, OpenTicketBody, TimelineQuery, TriageBody } from "./api-schemas.js";
import { Failure, notFound } from "./errors.js";
import { priorityRank } from "./commands.js";
import { isAgent, type Principal, type Ticket, type TimelineEntry } from "./model.js";
import type { ListPosition } from "./ports.js";
import { etagOf, TICKET_ID, type IdempotencyOptions, type WriteOptions } from "./service.js";

/** The ticket routes of DESIGN.md section 3: HTTP in, a use case, JSON out. */

/** ETags go out quoted (etagOf); If-Match may come quoted, weak or bare. */
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
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new Failure("invalid", "The Idempotency-Key header is invalid.", [
      { path: "Idempotency-Key", message: "1 to 255 printable ASCII characters." },
    ]);
  }
  const requestHash = createHash("sha256").update(`${call.request.method} ${call.url.pathname}\n${raw}`).digest("hex");
  return { key, requestHash };
}

/** The ticket as a caller may see it: escalation is ops' business, never a requester's. */
export function ticketJson(t: Ticket, caller: Principal) {
  const { version: _v, revision: _r, escalation, ...json } = t;
  const { cycle: _c, ...visible } = escalation;
  return { ...json, escalation: isAgent(caller) ? visible : null };
}

export function entryJson(e: TimelineEntry) {
  const { seq: _s, ...json } = e;
  return json;
}

function ticketReply(call: Call, status: number, { ticket }: { ticket: Ticket }, extra: Record<string, string> = {}): Reply {
  const headers = { ...extra, etag: quote(etagOf(ticket)) };
  return { status, body: ticketJson(ticket, call.principal), headers };
}

/**
 * The {id} of a ticket route. Ids are what TicketService.ticketId makes; anything
 * else names no ticket, and never reaches the store (where a `#` or `\` would be
 * an invalid document id rather than a missing one).
 */
function ticketIdOf(call: Call): string {
  const id = call.param("id");
  if (!TICKET_ID.test(id)) throw notFound();
  return id;
}

const replayHeader = (replayed: boolean): Record<string, string> => (replayed ? { "idempotent-replayed": "true" } : {});

// Queue cursors are opaque to clients; inside, the last position seen in queue order.
function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify(position)).toString("base64url");
}

function decodeCursor(cursor: string): ListPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (isPosition(value)) return value;
  } catch {
    // fall through
  }
  throw new Failure("invalid", "The cursor is invalid.", [{ path: "cursor", message: "Use a nextCursor from a previous page." }]);
}

const isPosition = (v: unknown): v is ListPosition =>
  Array.isArray(v) && v.length === 3 && typeof v[0] === "number" && typeof v[1] === "string" && typeof v[2] === "string";

function resolveWho(value: string | undefined, caller: Principal): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === "me") return caller.id;
  if (value === "none") return null;
  return value;
}

export function ticketHandlers(app: App): Record<string, HttpHandler> {
  const corsOrigins = app.settings.CORS_ALLOWED_ORIGINS;
  const authed = (run: (call: Call) => Promise<Reply>) => endpoint({ authenticate: (h) => app.authenticate(h), corsOrigins, run });
  const tickets = () => app.tickets();

  return {
    openTicket: authed(async (call) => {
      const { value, raw } = await call.body(OpenTicketBody);
      const result = await (await tickets()).open(call.principal, value, { requestId: call.requestId, idempotency: idempotency(call, raw) });
      const location = `/api/tickets/${result.value.id}`;
      return ticketReply(call, 201, { ticket: result.value }, { location, ...replayHeader(result.replayed) });
    }),

    listTickets: authed(async (call) => {
      const q = call.query(ListTicketsQuery);
      const requester = resolveWho(q.requester, call.principal);
      if (requester === null) throw new Failure("invalid", "The query is invalid.", [{ path: "requester", message: "Use me or a requester id." }]);
      const page = await (await tickets()).list(call.principal, {
        statuses: q.status,
        priorities: q.priority,
        severities: q.severity,
        assignee: resolveWho(q.assignee, call.principal),
        requester,
        limit: q.limit,
        after: q.cursor ? decodeCursor(q.cursor) : undefined,
      });
      const last = page.items.at(-1)?.ticket;
      const nextCursor = page.more && last ? encodeCursor([priorityRank(last), last.createdAt, last.id]) : null;
      return { status: 200, body: { items: page.items.map((s) => ticketJson(s.ticket, call.principal)), nextCursor } };
    }),

    getTicket: authed(async (call) => ticketReply(call, 200, await (await tickets()).get(call.principal, ticketIdOf(call)))),

    triageTicket: authed(async (call) => {
      const { value } = await call.body(TriageBody);
      return ticketReply(call, 200, await (await tickets()).triage(call.principal, ticketIdOf(call), value, writeOptions(call)));
    }),

    assignTicket: authed(async (call) => {
      const { value } = await call.body(AssignBody);
      return ticketReply(call, 200, await (await tickets()).assign(call.principal, ticketIdOf(call), value.agentId, writeOptions(call)));
    }),

    unassignTicket: authed(async (call) =>
      ticketReply(call, 200, await (await tickets()).assign(call.principal, ticketIdOf(call), null, writeOptions(call))),
    ),

    commentOnTicket: authed(async (call) => {
      const { value, raw } = await call.body(CommentBody);
      const id = ticketIdOf(call);
      const result = await (await tickets()).comment(call.principal, id, value, { ...writeOptions(call), idempotency: idempotency(call, raw) });
      const headers: Record<string, string> = { location: `/api/tickets/${id}/timeline`, ...replayHeader(result.replayed) };
      headers.etag = quote(result.etag);
      return { status: 201, body: entryJson(result.value), headers };
    }),

    moveTicket: authed(async (call) => {
      const { value } = await call.body(MoveBody);
      return ticketReply(call, 200, await (await tickets()).move(call.principal, ticketIdOf(call), value, writeOptions(call)));
    }),

    acknowledgeEscalation: authed(async (call) =>
      ticketReply(call, 200, await (await tickets()).acknowledge(call.principal, ticketIdOf(call), writeOptions(call))),
    ),

    ticketTimeline: authed(async (call) => {
      const q = call.query(TimelineQuery);
      const page = await (await tickets()).timeline(call.principal, ticketIdOf(call), q.cursor, q.limit);
      return { status: 200, body: { items: page.entries.map(entryJson), nextCursor: page.nextCursor } };
    }),

    listAgents: authed(async (call) => ({ status: 200, body: { items: await (await tickets()).agents(call.principal) } })),
  };
}

