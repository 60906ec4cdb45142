import type { Container, JSONObject, JSONValue, OperationInput, OperationResponse, SqlParameter } from "@azure/cosmos";
import type * as z from "zod";
import type { OutboxEntry, OutboxStore } from "../../outbox/ports.js";
import {
  entryId,
  PRIORITY_RANK,
  priorityRank,
  publicUpdatedAtOf,
  requesterRank,
  type Ticket,
  type TimelineEntry,
} from "../../tickets/domain/model.js";
import type {
  ListPage,
  ListPosition,
  BroadcastReceipt,
  ListQuery,
  ListSort,
  StoredTicket,
  TicketRecord,
  TicketStore,
  TicketWrite,
  UnstoredTicket,
} from "../../tickets/ports.js";
import {
  fromEntryDoc,
  fromOutboxDoc,
  fromTicketDoc,
  parsed,
  TICKET_DOC_FIELDS,
  ticketOfDoc,
  toEntryDoc,
  toOutboxDoc,
  toTicketDoc,
  type TicketDoc,
} from "./documents.js";
import { cosmosFailure, pointRead, translated } from "./errors.js";

/**
 * The tickets container (DESIGN.md section 5). A ticket, its timeline entries, its
 * outbox entries and its records (idempotency receipts, alert deliveries) share the
 * logical partition `/ticketId`, so that every command is one transactional batch.
 */

/** A ticket's record as stored: in its partition, without the write's own flag. */
const recordDoc = (ticketId: string, { upsert: _u, ...record }: TicketRecord) => ({ ...record, ticketId });

/** Our documents are plain JSON; the SDK's batch type wants that said. */
const json = (doc: object) => doc as unknown as JSONObject;

/**
 * The queue's projection: the ticket document's own fields and its etag, named one by one
 * (bracket notation, so no field name can clash with a keyword), so that nothing else a
 * document carries (Cosmos DB's _rid, _self, _ts..., fields of older documents) is read.
 */
const QUEUE_FIELDS = [...TICKET_DOC_FIELDS, "_etag"].map((f) => `c["${f}"]`).join(", ");

/**
 * "After this position" in an order of several fields, as conditions one of which holds:
 * a > x, or a = x AND b > y, or a = x AND b = y AND c > z..., with < for a descending field. The
 * same as nesting each next field inside the one before, but flat: the embedded endpoint's
 * parser takes time exponential in the depth of parentheses, once per query text (half a
 * second for the queue's three fields nested, a tenth flat; seconds for the due order's).
 */
function afterPosition(fields: [field: string, direction: "ASC" | "DESC"][], values: string[]): string[] {
  return fields.map(([field, direction], i) => {
    const equal = fields.slice(0, i).map(([f], j) => `${f} = ${values[j]!}`);
    return [...equal, `${field} ${direction === "ASC" ? ">" : "<"} ${values[i]!}`].join(" AND ");
  });
}

/** Conditions of which one at least holds. */
const anyOf = (conditions: string[]): string => `(${conditions.map((c) => (c.includes(" AND ") ? `(${c})` : c)).join(" OR ")})`;

/**
 * The position of a page's last item in the query's order: what the next page starts after.
 * The `due` order's key is the document's own, as the query ordered it (null when it has none:
 * a ticket stored before it was kept); the others' are the ticket's, in the query's view.
 */
function positionOf(query: ListQuery, doc: JSONObject, ticket: Ticket): ListPosition {
  const requester = query.view === "requester";
  switch (query.sort) {
    case "priority":
      return { sort: "priority", key: [requester ? requesterRank(ticket) : priorityRank(ticket), ticket.createdAt, ticket.id] };
    case "updated":
      return { sort: "updated", key: [requester ? publicUpdatedAtOf(ticket) : ticket.updatedAt, ticket.id] };
    case "created":
      return { sort: "created", key: [ticket.createdAt, ticket.id] };
    case "due":
      return { sort: "due", key: [typeof doc.slaDueOrder === "number" ? doc.slaDueOrder : null, priorityRank(ticket), ticket.id] };
  }
}

/** Operations one transactional batch may hold (Cosmos DB's limit). */
const BATCH_LIMIT = 100;
/**
 * How long a sent outbox entry is kept, then removed by Cosmos DB: as long as a queue drops a
 * republished message (duplicate detection, at most 7 days in infra/), to look at meanwhile.
 */
export const SENT_OUTBOX_TTL_SECONDS = 7 * 24 * 3600;

export class CosmosTicketStore implements TicketStore, OutboxStore {
  constructor(
    private readonly container: Container,
    private readonly log: (line: string) => void = (line) => console.error(line),
  ) {}

  async get(id: string): Promise<StoredTicket | null> {
    const doc = await pointRead(() => this.container.item(id, id).read());
    return doc ? fromTicketDoc(doc, undefined) : null;
  }

  create(ticket: UnstoredTicket, write: TicketWrite): Promise<StoredTicket> {
    const doc = toTicketDoc(ticket);
    // The create that may conflict goes first, so that a conflict fails before any other write
    // (DESIGN.md section 7: the embedded endpoint, as shipped, does not undo them; as patched, it does).
    return this.batch(doc, [{ operationType: "Create", resourceBody: json(doc) }, ...this.appends(doc.id, write)]);
  }

  commit(etag: string, next: UnstoredTicket, write: TicketWrite): Promise<StoredTicket> {
    const doc = toTicketDoc(next);
    return this.batch(doc, [
      { operationType: "Replace", id: doc.id, resourceBody: json(doc), ifMatch: etag },
      ...this.appends(doc.id, write),
    ]);
  }

  private appends(ticketId: string, write: TicketWrite): OperationInput[] {
    const outbox = write.outbox.map((entry) => toOutboxDoc(entry));
    const creates = [
      ...write.entries.map((e) => toEntryDoc(ticketId, e)),
      ...outbox,
      ...write.records.filter((r) => !r.upsert).map((r) => recordDoc(ticketId, r)),
    ];
    return [
      ...creates.map((doc): OperationInput => ({ operationType: "Create", resourceBody: json(doc) })),
      ...write.records
        .filter((r) => r.upsert)
        .map((r): OperationInput => ({ operationType: "Upsert", resourceBody: json(recordDoc(ticketId, r)) })),
    ];
  }

  /**
   * One transactional batch; its first operation writes `doc`. What comes back is the ticket of
   * `doc` with the batch's etag: the document stored is the one sent, so it is not parsed back
   * (that parse was a twentieth of a create's CPU on the local host).
   */
  private async batch(doc: TicketDoc, operations: OperationInput[]): Promise<StoredTicket> {
    const results = await this.sendBatch(doc.id, operations, "Batch failed");
    const etag = results[0]?.eTag;
    if (!etag) throw new Error("Cosmos DB returned no etag for the ticket from the batch.");
    return { ...ticketOfDoc(doc), etag };
  }

  /** One transactional batch in the ticket's partition, all applied or a failure (the first operation's that failed). */
  private async sendBatch(ticketId: string, operations: OperationInput[], what: string): Promise<OperationResponse[]> {
    // Each operation names its partition too: the embedded endpoint reads it there.
    const ops = operations.map((op) => ({ ...op, partitionKey: ticketId }));
    const response = await translated(() => this.container.items.batch(ops, ticketId));
    const results = response.result ?? [];
    const failed = results.find((r) => r.statusCode >= 400 && r.statusCode !== 424);
    if (failed || response.code === undefined || response.code >= 400) {
      throw cosmosFailure({ code: failed?.statusCode ?? response.code ?? 500, message: what });
    }
    return results;
  }

  async record<T>(ticketId: string, id: string, schema: z.ZodType<T>): Promise<T | null> {
    const doc = await pointRead(() => this.container.item(id, ticketId).read());
    return doc ? parsed(schema, doc, "record") : null;
  }

  async entry(ticketId: string, seq: number): Promise<TimelineEntry | null> {
    const doc = await pointRead(() => this.container.item(entryId(seq), ticketId).read());
    return doc ? fromEntryDoc(doc) : null;
  }

  async list(query: ListQuery): Promise<ListPage> {
    const requester = query.view === "requester";
    // The SLA clocks are the help desk's own (read-tickets.ts refuses these to requesters).
    if (requester && (query.sort === "due" || query.slaStates?.length || query.parent !== undefined))
      throw new Error("A requester's list has no SLA filter or order, nor an incident's.");
    // The view's own fields: a requester's priority and updatedAt are the ones they see.
    const rank = requester ? "c.requesterRank" : "c.priorityRank";
    const updatedAt = requester ? "c.publicUpdatedAt" : "c.updatedAt";
    const where = ["c.type = 'ticket'"];
    const parameters: SqlParameter[] = [{ name: "@limit", value: query.limit + 1 }];
    const param = (name: string, value: JSONValue) => {
      parameters.push({ name, value });
      return name;
    };
    const inList = (field: string, name: string, values?: JSONValue[]) => {
      if (values?.length) where.push(`ARRAY_CONTAINS(${param(name, values)}, ${field})`);
    };
    inList("c.status", "@statuses", query.statuses);
    // By rank, so that a requester's list filters on the priority it orders by.
    inList(
      rank,
      "@ranks",
      query.priorities?.map((p) => PRIORITY_RANK[p]),
    );
    inList("c.severity", "@severities", query.severities);
    // A ticket stored before slaState was kept has none, and matches no state until its next write.
    inList("c.slaState", "@slaStates", query.slaStates);
    if (query.assignee === null) where.push("IS_NULL(c.assignee)");
    else if (query.assignee !== undefined) where.push(`c.assignee.id = ${param("@assignee", query.assignee)}`);
    if (query.requester !== undefined) where.push(`c.requester.id = ${param("@requester", query.requester)}`);
    // A ticket stored before links were kept has no parent field: no report.
    if (query.parent === null) where.push("(NOT IS_DEFINED(c.parent) OR IS_NULL(c.parent))");
    else if (query.parent !== undefined) where.push(`c.parent.id = ${param("@parent", query.parent)}`);
    if (query.updatedSince !== undefined) where.push(`${updatedAt} >= ${param("@since", query.updatedSince)}`);
    // Keyset pagination: strictly after the last item seen, in the list's order, so pages
    // never skip or repeat a ticket however the list changes in between. Each order has
    // its composite index (indexing-policy.json).
    const order: Record<ListSort, [field: string, direction: "ASC" | "DESC"][]> = {
      priority: [
        [rank, "ASC"],
        ["c.createdAt", "ASC"],
        ["c.id", "ASC"],
      ],
      updated: [
        [updatedAt, "DESC"],
        ["c.id", "DESC"],
      ],
      created: [
        ["c.createdAt", "DESC"],
        ["c.id", "DESC"],
      ],
      // slaDueOrder is minus the next due time (documents.ts): descending, the earliest first.
      due: [
        ["c.slaDueOrder", "DESC"],
        ["c.priorityRank", "ASC"],
        ["c.id", "ASC"],
      ],
    };
    const fields = order[query.sort];
    const after = query.after;
    if (after) {
      if (after.sort !== query.sort) throw new Error("A position of another order.");
      // After a ticket stored before slaDueOrder was kept: those come last (Cosmos DB orders a
      // missing value below any other), by priority and id, and no comparison of the key matches them.
      const untimed = after.sort === "due" && after.key[0] === null;
      const skip = untimed ? 1 : 0;
      const past = afterPosition(
        fields.slice(skip),
        after.key.slice(skip).map((v, i) => param(`@after${i + skip}`, v)),
      );
      if (untimed) where.push(`NOT IS_DEFINED(c.slaDueOrder) AND ${anyOf(past)}`);
      else where.push(anyOf(after.sort === "due" ? [...past, "NOT IS_DEFINED(c.slaDueOrder)"] : past));
    }
    const orderBy = fields.map(([field, direction]) => `${field} ${direction}`).join(", ");
    const sql = `SELECT TOP @limit ${QUEUE_FIELDS} FROM c WHERE ${where.join(" AND ")} ORDER BY ${orderBy}`;
    const { resources } = await translated(() =>
      // One page of TOP's size: the SDK's own page size (10 when it plans the query) would
      // fetch a queue page of 25 in three round trips.
      this.container.items
        .query<JSONObject>({ query: sql, parameters }, { forceQueryPlan: true, maxItemCount: query.limit + 1 })
        .fetchAll(),
    );
    const page = resources.slice(0, query.limit);
    const items = page.map((d) => fromTicketDoc(d, undefined));
    const last = query.limit - 1;
    const next = resources.length > query.limit ? positionOf(query, page[last]!, items[last]!.ticket) : null;
    return { items, next };
  }

  async timeline(ticketId: string, options: { afterSeq: number; limit: number; publicOnly: boolean }) {
    const visibility = options.publicOnly ? " AND c.visibility = 'public'" : "";
    // The ticket and the page in one query of the ticket's own partition (the embedded
    // endpoint reads only it too: patches/). ORDER BY puts the ticket, which has no seq,
    // first (Cosmos DB orders an undefined value below any other). No ticket and no entry:
    // there is no such ticket (one that exists has its "opened" entry), answered as fast as
    // a ticket the caller may not see. Entries without it: read it on its own.
    const sql =
      "SELECT TOP @limit * FROM c WHERE c.type = 'ticket' OR " + `(c.type = 'entry' AND c.seq > @after${visibility}) ORDER BY c.seq ASC`;
    const parameters: SqlParameter[] = [
      { name: "@limit", value: options.limit + 2 },
      { name: "@after", value: options.afterSeq },
    ];
    const { resources } = await translated(() =>
      this.container.items
        .query<JSONObject>({ query: sql, parameters }, { partitionKey: ticketId, maxItemCount: options.limit + 2 })
        .fetchAll(),
    );
    const ticketDoc = resources.find((d) => d.type === "ticket");
    const entries = resources.filter((d) => d.type === "entry");
    const ticket = ticketDoc ? fromTicketDoc(ticketDoc, undefined) : entries.length ? await this.get(ticketId) : null;
    return { ticket, entries: entries.slice(0, options.limit).map(fromEntryDoc), more: entries.length > options.limit };
  }

  async unsentOutbox(options: { createdBefore?: string; limit: number }): Promise<OutboxEntry[]> {
    const before = options.createdBefore ? " AND c.createdAt < @before" : "";
    const parameters: SqlParameter[] = [{ name: "@limit", value: options.limit }];
    if (options.createdBefore) parameters.push({ name: "@before", value: options.createdBefore });
    const query = `SELECT TOP @limit * FROM c WHERE c.type = 'outbox' AND c.sent = false${before}`;
    const { resources } = await translated(() =>
      this.container.items.query<JSONObject>({ query, parameters }, { forceQueryPlan: true, maxItemCount: options.limit }).fetchAll(),
    );
    // One entry this code cannot read must not stop the sweep of every other: it is logged and left.
    return resources.flatMap((doc) => {
      try {
        return [fromOutboxDoc(doc)];
      } catch (e) {
        this.log(`outbox: ${e instanceof Error ? e.message : String(e)}; left unsent`);
        return [];
      }
    });
  }

  /**
   * One request per ticket: a batch that rewrites its entries as sent (a change's timers and
   * page go out together), each document whole, from the entry as this code reads it: what
   * the store wrote (appends), marked sent.
   */
  async markOutboxSent(entries: OutboxEntry[]): Promise<void> {
    const sent = { sentAt: new Date().toISOString(), ttl: SENT_OUTBOX_TTL_SECONDS };
    const replace = (entry: OutboxEntry): OperationInput => ({
      operationType: "Replace",
      id: entry.id,
      partitionKey: entry.ticketId,
      resourceBody: json(toOutboxDoc(entry, sent)),
    });
    const tickets = new Set(entries.map((e) => e.ticketId));
    if (tickets.size === 1 && entries.length <= BATCH_LIMIT) {
      await this.sendBatch(entries[0]!.ticketId, entries.map(replace), "Marking outbox entries sent failed");
      return;
    }
    // Many tickets' entries (the change feed's batch, the local host's writes of one moment): one
    // bulk request per partition key range, not one batch per ticket. Each mark stands alone,
    // as marks may: an entry left unmarked is published again, and the queue drops the repeat.
    const results = await translated(() => this.container.items.executeBulkOperations(entries.map(replace)));
    const failed = results.filter((r) => r.error || (r.response?.statusCode ?? 500) >= 400);
    if (failed.length) {
      const code = failed[0]!.error?.code ?? failed[0]!.response?.statusCode ?? 500;
      throw cosmosFailure({ code, message: `Marking ${failed.length} of ${entries.length} outbox entries sent failed` });
    }
  }

  async putRecord(ticketId: string, record: TicketRecord): Promise<void> {
    const doc = json(recordDoc(ticketId, record));
    await translated(() => (record.upsert ? this.container.items.upsert(doc) : this.container.items.create(doc)));
  }

  async broadcastReceipts(broadcastId: string): Promise<BroadcastReceipt[]> {
    const query = "SELECT c.ticketId, c.outcome, c.why FROM c WHERE c.type = 'broadcast_receipt' AND c.broadcastId = @broadcast";
    const { resources } = await translated(() =>
      this.container.items.query<BroadcastReceipt>({ query, parameters: [{ name: "@broadcast", value: broadcastId }] }).fetchAll(),
    );
    return resources;
  }

  /** A missing database or container is an outage here (404 becomes "unavailable"), never "ok". */
  async ping(): Promise<void> {
    await translated(() => this.container.read());
  }
}
