import { BulkOperationType, type Container, type Database, type JSONObject, type OperationInput } from "@azure/cosmos";

/**
 * Every document of a database, as the app wrote them, read and written back through the
 * SDK: what the local host keeps of its embedded store across restarts (shared/local/
 * kept-store.ts). Nothing here knows the embedded endpoint's internals; it would work the
 * same against the emulator.
 *
 * What a copy keeps, so that the restored store behaves as the one it was taken from:
 * - each document's own fields, its id and its partition key value (a field of the
 *   document: `/ticketId` places tickets, their timelines, receipts and outbox entries, and
 *   the reserved partitions such as `_agents`), unsent outbox entries included (the host's
 *   pump sends them at start);
 * - not Cosmos DB's system fields (_rid, _self, _etag, _ts, _attachments, _lsn): the store
 *   gives a restored document new ones, as it does on any write. The app's ETags are its
 *   own revisions, not `_etag`, so clients' ETags survive a restart;
 * - time to live: Cosmos DB counts a document's `ttl` from its last write (`_ts`). A copy
 *   records what is left of it at `takenAt` (and leaves out what has expired), and a
 *   restore writes what is left at that moment, so a receipt expires when it would have,
 *   never 24 hours after each restart.
 */
export interface DatabaseSnapshot {
  takenAt: string;
  containers: ContainerSnapshot[];
}

export interface ContainerSnapshot {
  id: string;
  /** The partition key path, as the container declares it ("/ticketId"). */
  partitionKey: string;
  documents: JSONObject[];
}

const SYSTEM_FIELDS = ["_rid", "_self", "_etag", "_ts", "_attachments", "_lsn"];

/** One request may take long: a whole container in one page (see takeSnapshot). */
export const SNAPSHOT_REQUEST_TIMEOUT_MS = 300_000;

/**
 * Reads every document of every container. Each container is read in one page
 * (maxItemCount -1): one request is one consistent view of it, whereas pages read one
 * after the other could miss a document rewritten between them or see a ticket without
 * the timeline entry of the same batch.
 */
export async function takeSnapshot(database: Database, now: Date): Promise<DatabaseSnapshot> {
  const { resources: definitions } = await database.containers.readAll().fetchAll();
  const nowS = Math.floor(now.getTime() / 1000);
  const containers: ContainerSnapshot[] = [];
  for (const definition of definitions) {
    const partitionKey = definition.partitionKey?.paths[0] ?? "/id";
    const { resources } = await database.container(definition.id).items.readAll<JSONObject>({ maxItemCount: -1 }).fetchAll();
    const documents = resources.flatMap((stored) => {
      const left = ttlLeft(stored, definition.defaultTtl, nowS);
      if (left !== undefined && left <= 0) return []; // expired: Cosmos DB would have removed it
      const doc: JSONObject = { ...stored };
      for (const field of SYSTEM_FIELDS) delete doc[field];
      if (left !== undefined) doc.ttl = left;
      return [doc];
    });
    containers.push({ id: definition.id, partitionKey, documents });
  }
  return { takenAt: now.toISOString(), containers };
}

/** Seconds the document has left to live, or undefined when it never expires. */
function ttlLeft(doc: JSONObject, defaultTtl: number | undefined, nowS: number): number | undefined {
  const own = typeof doc.ttl === "number" ? doc.ttl : undefined;
  const ttl = own ?? (defaultTtl !== undefined && defaultTtl > 0 ? defaultTtl : undefined);
  if (ttl === undefined || ttl === -1) return undefined;
  const writtenS = typeof doc._ts === "number" ? doc._ts : nowS;
  return ttl - (nowS - writtenS);
}

export interface RestoreResult {
  documents: number;
  /** Documents whose time to live ran out between the copy and now: not written. */
  expired: number;
}

/** Bulk requests of 100 operations (the SDK's and Cosmos DB's limit per request), a few at a time. */
const BULK_SIZE = 100;
const BULK_CONCURRENCY = 4;

/**
 * Writes a snapshot's documents back (upserts, in bulk), creating a container it names that
 * does not exist yet with the partition key it had. Throws, naming the document, if any
 * write is refused: a half-restored store must not pass for a restored one.
 */
export async function restoreSnapshot(database: Database, snapshot: DatabaseSnapshot, now: Date): Promise<RestoreResult> {
  const elapsedS = Math.max(0, Math.floor((now.getTime() - Date.parse(snapshot.takenAt)) / 1000));
  let documents = 0;
  let expired = 0;
  for (const saved of snapshot.containers) {
    const { container } = await database.containers.createIfNotExists({ id: saved.id, partitionKey: { paths: [saved.partitionKey] } });
    const path = saved.partitionKey.slice(1).split("/");
    const operations: OperationInput[] = [];
    for (const doc of saved.documents) {
      let body = doc;
      if (typeof doc.ttl === "number" && doc.ttl !== -1) {
        const left = doc.ttl - elapsedS;
        if (left <= 0) {
          expired++;
          continue;
        }
        body = { ...doc, ttl: left };
      }
      const partitionKey = valueAt(body, path);
      operations.push({
        operationType: BulkOperationType.Upsert,
        resourceBody: body,
        ...(partitionKey === undefined ? {} : { partitionKey: partitionKey as string | number | boolean | null }),
      });
    }
    await upsertAll(container, operations);
    documents += operations.length;
  }
  return { documents, expired };
}

async function upsertAll(container: Container, operations: OperationInput[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < operations.length) {
      const chunk = operations.slice(next, (next += BULK_SIZE));
      // items.bulk rather than executeBulkOperations: measured on 50,000 documents against the
      // embedded endpoint, 2.3 s against 7.6 s (its congestion control starts slow and waits
      // on a timer; called per chunk, it waited a second per chunk: 126 s).
      const results = await container.items.bulk(chunk);
      const refused = results.findIndex((r) => r.statusCode >= 400);
      if (refused >= 0) {
        const id = JSON.stringify((chunk[refused] as { resourceBody?: JSONObject }).resourceBody?.id);
        throw new Error(`Restoring document ${id} of container ${container.id} failed (${results[refused]!.statusCode}).`);
      }
    }
  };
  await Promise.all(Array.from({ length: BULK_CONCURRENCY }, worker));
}

function valueAt(doc: JSONObject, path: string[]): unknown {
  let value: unknown = doc;
  for (const key of path) value = value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}
