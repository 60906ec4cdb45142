import type { Container, JSONObject, OperationInput, SqlParameter } from "@azure/cosmos";
import { entryId, priorityRank } from "../../tickets/commands.js";
import type { Ticket, TimelineEntry } from "../../tickets/model.js";
import {
  StoreConflict,
  StorePreconditionFailed,
  type Agent,
  type ListQuery,
  type SideDocument,
  type StoredTicket,
  type TicketStore,
} from "../../tickets/ports.js";
import type { OutboxStore } from "../../escalation/dispatcher.js";
import type { OutboxEntry } from "../../escalation/outbox.js";
import { toStoreError } from "./errors.js";

/**
 * The tickets container (DESIGN.md section 5). A ticket, its timeline entries and
 * its side documents (idempotency receipts, outbox) share the logical partition
 * `/ticketId`, so that every command is one transactional batch.
 */

const AGENTS_PARTITION = "_agents";

interface TicketDoc extends Ticket {
  ticketId: string;
  type: "ticket";
  priorityRank: number;
  keys: StoredTicket["keys"];
  salt: string;
  _etag?: string;
}

interface EntryDoc extends Omit<TimelineEntry, "type"> {
  ticketId: string;
  type: "entry";
  entryType: TimelineEntry["type"];
}

/** Our documents are plain JSON; the SDK's batch type wants that said. */
const json = (doc: object) => doc as unknown as JSONObject;

const SYSTEM_FIELDS = ["_rid", "_self", "_etag", "_attachments", "_ts", "ttl"] as const;

function toTicketDoc({ ticket, keys, salt }: Omit<StoredTicket, "etag">): TicketDoc {
  return { ...ticket, ticketId: ticket.id, type: "ticket", priorityRank: priorityRank(ticket), keys, salt };
}

function fromTicketDoc(doc: TicketDoc, etag?: string): StoredTicket {
  const { ticketId: _p, type: _t, priorityRank: _r, keys, salt, ...rest } = doc;
  const ticket = { ...rest } as Record<string, unknown>;
  for (const f of SYSTEM_FIELDS) delete ticket[f];
  return { ticket: ticket as unknown as Ticket, etag: etag ?? doc._etag ?? "", keys: keys ?? {}, salt };
}

function toEntryDoc(ticketId: string, entry: TimelineEntry): EntryDoc {
  const { type, ...rest } = entry;
  return { ...rest, ticketId, type: "entry", entryType: type };
}

function fromEntryDoc(doc: EntryDoc): TimelineEntry {
  const { id, seq, entryType, at, actor, visibility, data } = doc;
  return { id, seq, type: entryType, at, actor, visibility, data };
}

const agentDocId = (agentId: string) => `agent-${Buffer.from(agentId).toString("base64url")}`;

export class CosmosTicketStore implements TicketStore, OutboxStore {
  constructor(private readonly container: Container) {}

  async get(id: string): Promise<StoredTicket | null> {
    return guard(async () => {
      const { resource, etag } = await this.container.item(id, id).read<TicketDoc>();
      return resource?.type === "ticket" ? fromTicketDoc(resource, etag) : null;
    });
  }

  create(stored: Omit<StoredTicket, "etag">, entries: TimelineEntry[], side: SideDocument[]): Promise<StoredTicket> {
    const id = stored.ticket.id;
    // The create that may conflict goes first: the embedded endpoint stops at the
    // first failure without undoing earlier operations (DESIGN.md section 7).
    return this.batch(id, [
      { operationType: "Create", resourceBody: json(toTicketDoc(stored)) },
      ...this.appends(id, entries, side),
    ]);
  }

  commit(etag: string, next: Omit<StoredTicket, "etag">, entries: TimelineEntry[], side: SideDocument[]): Promise<StoredTicket> {
    const id = next.ticket.id;
    return this.batch(id, [
      { operationType: "Replace", id, resourceBody: json(toTicketDoc(next)), ifMatch: etag },
      ...this.appends(id, entries, side),
    ]);
  }

  private appends(ticketId: string, entries: TimelineEntry[], side: SideDocument[]): OperationInput[] {
    return [
      ...entries.map((e): OperationInput => ({ operationType: "Create", resourceBody: json(toEntryDoc(ticketId, e)) })),
      ...side.map((d): OperationInput => ({ operationType: "Create", resourceBody: json({ ...d, ticketId }) })),
    ];
  }

  /** One transactional batch; its first operation is the ticket itself. */
  private async batch(ticketId: string, operations: OperationInput[]): Promise<StoredTicket> {
    // Each operation names its partition too: the embedded endpoint reads it there.
    const ops = operations.map((op) => ({ ...op, partitionKey: ticketId }) as OperationInput);
    const response = await guard(() => this.container.items.batch(ops, ticketId));
    const results = response.result ?? [];
    const failed = results.find((r) => r.statusCode >= 400 && r.statusCode !== 424);
    if (failed || response.code === undefined || response.code >= 400) {
      const status = failed?.statusCode ?? response.code ?? 500;
      if (status === 409) throw new StoreConflict("A document with this id exists.");
      if (status === 412) throw new StorePreconditionFailed("The ticket changed.");
      throw toStoreError(Object.assign(new Error(`Batch failed with ${status}`), { code: status, headers: response.headers }));
    }
    const first = results[0];
    const doc = first?.resourceBody as (TicketDoc) | undefined;
    if (!first || !doc) throw new Error("Batch returned no ticket.");
    return fromTicketDoc(doc, first.eTag);
  }

  async getSide<T extends SideDocument>(ticketId: string, id: string): Promise<T | null> {
    return guard(async () => {
      const { resource } = await this.container.item(id, ticketId).read<T>();
      return resource ?? null;
    });
  }

  async entry(ticketId: string, seq: number): Promise<TimelineEntry | null> {
    return guard(async () => {
      const { resource } = await this.container.item(entryId(seq), ticketId).read<EntryDoc>();
      return resource ? fromEntryDoc(resource) : null;
    });
  }

  async list(query: ListQuery): Promise<{ items: StoredTicket[]; more: boolean }> {
    const where = ["c.type = 'ticket'"];
    const parameters: SqlParameter[] = [{ name: "@limit", value: query.limit + 1 }];
    const inList = (field: string, name: string, values?: string[]) => {
      if (!values?.length) return;
      where.push(`ARRAY_CONTAINS(${name}, c.${field})`);
      parameters.push({ name, value: values });
    };
    inList("status", "@statuses", query.statuses);
    inList("priority", "@priorities", query.priorities);
    inList("severity", "@severities", query.severities);
    if (query.assignee === null) where.push("IS_NULL(c.assignee)");
    else if (query.assignee !== undefined) {
      where.push("c.assignee.id = @assignee");
      parameters.push({ name: "@assignee", value: query.assignee });
    }
    if (query.requester !== undefined) {
      where.push("c.requester.id = @requester");
      parameters.push({ name: "@requester", value: query.requester });
    }
    if (query.after) {
      // Keyset pagination: strictly after the last item seen, in queue order, so
      // pages never skip or repeat a ticket however the queue changes in between.
      const [rank, createdAt, id] = query.after;
      where.push(
        "(c.priorityRank > @rank OR (c.priorityRank = @rank AND (c.createdAt > @createdAt OR (c.createdAt = @createdAt AND c.id > @id))))",
      );
      parameters.push({ name: "@rank", value: rank }, { name: "@createdAt", value: createdAt }, { name: "@id", value: id });
    }
    const sql = `SELECT TOP @limit * FROM c WHERE ${where.join(" AND ")} ORDER BY c.priorityRank ASC, c.createdAt ASC, c.id ASC`;
    return guard(async () => {
      const { resources } = await this.container.items.query<TicketDoc>({ query: sql, parameters }).fetchAll();
      const items = resources.slice(0, query.limit).map((d) => fromTicketDoc(d));
      return { items, more: resources.length > query.limit };
    });
  }

  async timeline(ticketId: string, options: { afterSeq: number; limit: number; publicOnly: boolean }) {
    const visibility = options.publicOnly ? " AND c.visibility = 'public'" : "";
    // The ticketId condition is implied by the partition key in Cosmos DB, but the
    // embedded endpoint ignores the partition key of a query.
    const sql = `SELECT TOP @limit * FROM c WHERE c.ticketId = @ticketId AND c.type = 'entry' AND c.seq > @after${visibility} ORDER BY c.seq ASC`;
    return guard(async () => {
      const { resources } = await this.container.items
        .query<EntryDoc>(
          {
            query: sql,
            parameters: [
              { name: "@limit", value: options.limit + 1 },
              { name: "@after", value: options.afterSeq },
              { name: "@ticketId", value: ticketId },
            ],
          },
          { partitionKey: ticketId },
        )
        .fetchAll();
      return { entries: resources.slice(0, options.limit).map(fromEntryDoc), more: resources.length > options.limit };
    });
  }

  async putAgent(agent: Agent): Promise<void> {
    await guard(() =>
      this.container.items.upsert({ ...agent, agentId: agent.id, id: agentDocId(agent.id), ticketId: AGENTS_PARTITION, type: "agent" }),
    );
  }

  async getAgent(id: string): Promise<Agent | null> {
    return guard(async () => {
      const { resource } = await this.container.item(agentDocId(id), AGENTS_PARTITION).read<Record<string, unknown>>();
      return resource ? toAgent(resource) : null;
    });
  }

  async listAgents(): Promise<Agent[]> {
    return guard(async () => {
      const { resources } = await this.container.items
        .query<Record<string, unknown>>("SELECT * FROM c WHERE c.type = 'agent' ORDER BY c.name ASC", { partitionKey: AGENTS_PARTITION })
        .fetchAll();
      return resources.map(toAgent);
    });
  }

  async unsentOutbox(options: { createdBefore?: string; limit: number }): Promise<OutboxEntry[]> {
    const before = options.createdBefore ? " AND c.createdAt < @before" : "";
    const parameters: SqlParameter[] = [{ name: "@limit", value: options.limit }];
    if (options.createdBefore) parameters.push({ name: "@before", value: options.createdBefore });
    return guard(async () => {
      const query = `SELECT TOP @limit * FROM c WHERE c.type = 'outbox' AND c.sent = false${before}`;
      const { resources } = await this.container.items.query<OutboxEntry>({ query, parameters }).fetchAll();
      return resources;
    });
  }

  async markOutboxSent(entry: OutboxEntry): Promise<void> {
    await guard(() =>
      this.container.item(entry.id, entry.ticketId).patch([
        { op: "set", path: "/sent", value: true },
        { op: "set", path: "/sentAt", value: new Date().toISOString() },
      ]),
    );
  }

  async ping(): Promise<void> {
    await guard(() => this.container.read());
  }
}

function toAgent(doc: Record<string, unknown>): Agent {
  return { id: String(doc.agentId), name: String(doc.name), email: (doc.email as string | null) ?? null, firstSeenAt: String(doc.firstSeenAt) };
}

/** Translates SDK failures into the store's errors; a 404 read is not a failure. */
async function guard<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 404) return null as T;
    if (code === 409) throw new StoreConflict("A document with this id exists.");
    if (code === 412) throw new StorePreconditionFailed("The ticket changed.");
    throw toStoreError(e);
  }
}
