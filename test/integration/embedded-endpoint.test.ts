import { PartitionKeyBuilder } from "@azure/cosmos";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedCosmos, type EmbeddedCosmos } from "../../shared/local/embedded-cosmos.js";
import { bootstrapCosmos, connectCosmos, EMBEDDED_KEY } from "../../shared/adapters/cosmos/connect.js";
import { LEASES_CONTAINER, TICKETS_CONTAINER } from "../../shared/adapters/cosmos/names.js";
import indexingPolicy from "../../shared/adapters/cosmos/indexing-policy.json" with { type: "json" };
import { withContainer } from "../support/embedded-container.js";

/**
 * The embedded Cosmos DB endpoint as patched (patches/@vercel+cosmosdb-server+1.0.1.patch),
 * its queries answered by its replica (shared/local/query-replica.ts): a query with a partition
 * key reads that partition only, as Cosmos DB does; without one, the whole container, or the
 * documents whose field a top-level AND compares with a string; a query-plan request is
 * answered with a plan, not by running the query. The replica follows every write.
 */
let embedded: EmbeddedCosmos;
beforeAll(async () => {
  embedded = await startEmbeddedCosmos();
});
afterAll(() => embedded.close());

describe("the embedded endpoint", () => {
  it("answers a partition-key query from that partition only", async () => {
    await withContainer(embedded, "partitions", async (container) => {
      for (const [ticketId, id] of [
        ["t1", "a"],
        ["t1", "b"],
        ["t2", "a"],
        ["t3", "c"],
      ])
        await container.items.create({ id, ticketId, type: "entry" });
      const ids = async (partitionKey?: string) => {
        const { resources } = await container.items
          .query<{ id: string; ticketId: string }>("SELECT * FROM c ORDER BY c.id ASC", partitionKey === undefined ? {} : { partitionKey })
          .fetchAll();
        return resources.map((d) => `${d.ticketId}/${d.id}`);
      };
      expect(await ids("t1")).toEqual(["t1/a", "t1/b"]);
      expect(await ids("t2")).toEqual(["t2/a"]);
      expect(await ids("none")).toEqual([]);
      // PartitionKey.None: the documents without a ticketId.
      await container.items.create({ id: "keyless", type: "entry" });
      const { resources: keyless } = await container.items
        .query<{ id: string }>("SELECT * FROM c", { partitionKey: new PartitionKeyBuilder().addNoneValue().build() })
        .fetchAll();
      expect(keyless.map((d) => d.id)).toEqual(["keyless"]);
      expect((await ids()).sort()).toEqual(["t1/a", "t1/b", "t2/a", "t3/c", "undefined/keyless"]);
      // The SDK's speculative query-plan request is answered with a plan, not by running the query.
      const plan = await fetch(`${embedded.endpoint}/dbs/partitions/colls/tickets/docs`, {
        method: "POST",
        headers: {
          "content-type": "application/query+json",
          "x-ms-documentdb-isquery": "True",
          "x-ms-cosmos-is-query-plan-request": "True",
          "x-ms-documentdb-query-enablecrosspartition": "True",
        },
        body: JSON.stringify({ query: "SELECT * FROM c" }),
      });
      expect(plan.status).toBe(200);
      const body = (await plan.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ partitionedQueryExecutionInfoVersion: 2, queryInfo: { distinctType: "None" } });
      expect(body).not.toHaveProperty("Documents");
    });
  });

  it("keeps its index of partitions through replaces, upserts and deletes", async () => {
    await withContainer(embedded, "partition-index", async (container) => {
      const seen = async (ticketId: string) => {
        const { resources } = await container.items
          .query<{ id: string; v: number }>("SELECT c.id, c.v FROM c ORDER BY c.id ASC", { partitionKey: ticketId })
          .fetchAll();
        return resources.map((d) => `${d.id}:${d.v}`);
      };
      await container.items.create({ id: "a", ticketId: "t1", v: 1 });
      await container.items.create({ id: "b", ticketId: "t1", v: 1 });
      await container.items.create({ id: "a", ticketId: "t2", v: 1 });
      await container.item("a", "t1").replace({ id: "a", ticketId: "t1", v: 2 });
      await container.items.upsert({ id: "b", ticketId: "t1", v: 3 });
      expect(await seen("t1")).toEqual(["a:2", "b:3"]);
      await container.item("a", "t1").delete();
      expect(await seen("t1")).toEqual(["b:3"]);
      await container.item("b", "t1").delete();
      expect(await seen("t1")).toEqual([]);
      expect(await seen("t2")).toEqual(["a:1"]);
      await container.items.create({ id: "a", ticketId: "t1", v: 4 });
      expect(await seen("t1")).toEqual(["a:4"]);
    });
  });

  it("answers queries from its replica, which has every write answered before the query", async () => {
    await withContainer(embedded, "replica", async (container, client) => {
      const values = async () =>
        (await container.items.query<number>("SELECT VALUE c.v FROM c WHERE c.id = 'x'", { partitionKey: "t" }).fetchAll()).resources;
      for (let v = 0; v < 50; v++) {
        await container.items.upsert({ id: "x", ticketId: "t", v });
        expect(await values()).toEqual([v]);
      }
      await container.items.batch(
        [
          { operationType: "Replace", id: "x", partitionKey: "t", resourceBody: { id: "x", ticketId: "t", v: 100 } },
          { operationType: "Create", partitionKey: "t", resourceBody: { id: "y", ticketId: "t", v: 101 } },
        ],
        "t",
      );
      expect(await values()).toEqual([100]);
      await container.item("x", "t").delete();
      expect(await values()).toEqual([]);
      // A container deleted and made again starts empty in the replica too.
      await container.delete();
      await bootstrapCosmos(client, "replica");
      const { resources } = await container.items.query("SELECT * FROM c").fetchAll();
      expect(resources).toEqual([]);
      await client.database("replica").delete();
      await bootstrapCosmos(client, "replica");
      expect((await container.items.query("SELECT * FROM c").fetchAll()).resources).toEqual([]);
    });
  });

  it("answers a query comparing a field with a string from that value's documents, kept in step with every write", async () => {
    await withContainer(embedded, "fields", async (container) => {
      const ids = async (where: string) =>
        (await container.items.query<string>(`SELECT VALUE c.id FROM c WHERE ${where} ORDER BY c.id ASC`).fetchAll()).resources;
      for (const [id, ticketId, type] of [
        ["a1", "t1", "a"],
        ["b1", "t1", "b"],
        ["a2", "t2", "a"],
        ["n1", "t3", 7],
      ] as const)
        await container.items.create({ id, ticketId, type });
      expect(await ids("c.type = 'a'")).toEqual(["a1", "a2"]);
      expect(await ids("c.ticketId = 't1' AND 'b' = c.type")).toEqual(["b1"]);
      // A document whose field changes moves between values; a deleted one leaves.
      await container.items.upsert({ id: "a2", ticketId: "t2", type: "b" });
      await container.item("a1", "t1").delete();
      await container.items.create({ id: "a3", ticketId: "t3", type: "a" });
      expect(await ids("c.type = 'a'")).toEqual(["a3"]);
      expect(await ids("c.type = 'b'")).toEqual(["a2", "b1"]);
      // Not a top-level AND, or not a string: every document is read, as before.
      expect(await ids("c.type = 'a' OR c.type = 'b'")).toEqual(["a2", "a3", "b1"]);
      expect(await ids("NOT (c.type = 'a')")).toEqual(["a2", "b1", "n1"]);
      expect(await ids("c.type = 7")).toEqual(["n1"]);
    });
  });
  it("filters as Cosmos DB does whatever the types compared, over a container's rows and a JOIN's alike", async () => {
    // The engine's patched WHERE (one pass over FROM's rows; comparisons of two scalars at once)
    // answers as it did: = and < between different types or with a missing field match nothing.
    await withContainer(embedded, "where", async (container) => {
      for (const doc of [
        { id: "s", v: "b" },
        { id: "n", v: 2 },
        { id: "m" },
        { id: "z", v: null },
        { id: "t", v: true },
        { id: "o", v: { x: 1 } },
        { id: "a", v: [2], tags: ["x", "y", "x"] },
      ])
        await container.items.create({ ...doc, ticketId: "t1" });
      const ids = async (where: string) =>
        (await container.items.query<string>(`SELECT VALUE c.id FROM c WHERE ${where} ORDER BY c.id ASC`).fetchAll()).resources;
      expect(await ids("c.v = 2")).toEqual(["n"]);
      // (Within an OR, so that no index of the field's string values answers it.)
      expect(await ids("c.v = '2' OR c.v = 'true'")).toEqual([]);
      expect(await ids("c.v > 1")).toEqual(["n"]);
      expect(await ids("c.v > 'a'")).toEqual(["s"]);
      expect(await ids("c.v <= true")).toEqual(["t"]);
      expect(await ids("c.v = null")).toEqual(["z"]);
      expect(await ids("c.v != 2")).toEqual(["a", "o", "s", "t", "z"]);
      expect(await ids("NOT (c.v = 'b')")).toEqual(["a", "n", "o", "t", "z"]);
      expect(await ids(`c.v = {"x": 1}`)).toEqual(["o"]);
      expect(await ids("c.v = [2]")).toEqual(["a"]);
      expect(await ids("c.v > 1 OR c.v = 'b'")).toEqual(["n", "s"]);
      // TOP over ORDER BY over WHERE, in one pass: fewer matches than TOP, and more.
      const top = async (n: number) =>
        (await container.items.query<string>(`SELECT TOP ${n} VALUE c.id FROM c WHERE c.v != 2 ORDER BY c.id DESC`).fetchAll()).resources;
      expect(await top(2)).toEqual(["z", "t"]);
      expect(await top(10)).toEqual(["z", "t", "s", "o", "a"]);
      const joined = await container.items.query("SELECT c.id, t FROM c JOIN t IN c.tags WHERE t = 'x' OR t > 'x'").fetchAll();
      expect(joined.resources).toEqual([
        { id: "a", t: "x" },
        { id: "a", t: "y" },
        { id: "a", t: "x" },
      ]);
    });
  });

  it("applies a transactional batch all or nothing: a failing operation undoes the writes before it", async () => {
    await withContainer(embedded, "atomic-batch", async (container) => {
      const t = "t1";
      const kept = (await container.items.create({ id: "kept", ticketId: t, v: 1 })).resource!;
      const gone = (await container.items.create({ id: "gone", ticketId: t, v: 1 })).resource!;
      await container.items.create({ id: "taken", ticketId: t, v: 1 });
      const state = async () => {
        const { resources } = await container.items
          .query<{ id: string; v: number; _etag: string }>("SELECT c.id, c.v, c._etag FROM c ORDER BY c.id ASC", { partitionKey: t })
          .fetchAll();
        return resources;
      };
      const before = await state();
      // (Each operation names its partition, as shared/adapters/cosmos/ticket-store.ts sends them: the endpoint reads it there.)
      const response = await container.items.batch(
        [
          { partitionKey: t, operationType: "Replace", id: "kept", ifMatch: kept._etag, resourceBody: { id: "kept", ticketId: t, v: 2 } },
          { partitionKey: t, operationType: "Upsert", resourceBody: { id: "gone", ticketId: t, v: 2 } },
          { partitionKey: t, operationType: "Delete", id: "gone" },
          { partitionKey: t, operationType: "Create", resourceBody: { id: "new", ticketId: t, v: 1 } },
          { partitionKey: t, operationType: "Upsert", resourceBody: { id: "fresh", ticketId: t, v: 1 } },
          { partitionKey: t, operationType: "Create", resourceBody: { id: "taken", ticketId: t, v: 2 } },
          { partitionKey: t, operationType: "Create", resourceBody: { id: "after", ticketId: t, v: 1 } },
        ],
        t,
      );
      expect(response.result!.map((r) => r.statusCode)).toEqual([424, 424, 424, 424, 424, 409, 424]);
      expect(response.result!.every((r) => r.resourceBody === undefined)).toBe(true);
      // Every document as it was, its etag too, to the replica that answers queries and to point reads.
      expect(await state()).toEqual(before);
      expect((await container.item("kept", t).read()).resource).toMatchObject({ v: 1, _etag: kept._etag });
      expect((await container.item("gone", t).read()).resource).toMatchObject({ v: 1, _etag: gone._etag });
      expect((await container.item("new", t).read()).statusCode).toBe(404);
      // Then the same batch without the conflict applies whole.
      const ok = await container.items.batch(
        [
          { partitionKey: t, operationType: "Replace", id: "kept", ifMatch: kept._etag, resourceBody: { id: "kept", ticketId: t, v: 2 } },
          { partitionKey: t, operationType: "Delete", id: "gone" },
          { partitionKey: t, operationType: "Create", resourceBody: { id: "new", ticketId: t, v: 1 } },
        ],
        t,
      );
      expect(ok.result!.map((r) => r.statusCode)).toEqual([200, 204, 201]);
      expect((await state()).map((d) => `${d.id}:${d.v}`)).toEqual(["kept:2", "new:1", "taken:1"]);
      // An operation the endpoint cannot even read (a replace naming no partition) fails the
      // batch too (500), and what came before it is undone.
      await expect(
        container.items.batch(
          [
            { partitionKey: t, operationType: "Create", resourceBody: { id: "e1", ticketId: t, v: 1 } },
            { operationType: "Replace", id: "e1", resourceBody: { id: "e1", ticketId: t, v: 2 } },
          ],
          t,
        ),
      ).rejects.toMatchObject({ cause: { code: 500 } });
      expect((await container.item("e1", t).read()).statusCode).toBe(404);
      // An upsert finds its document by the document's own partition key value, so that is
      // where what it replaced is remembered, whatever partition its operation names.
      const stateBefore = await state();
      await container.items.batch(
        [
          { partitionKey: "elsewhere", operationType: "Upsert", resourceBody: { id: "kept", ticketId: t, v: 3 } },
          { partitionKey: t, operationType: "Create", resourceBody: { id: "taken", ticketId: t, v: 2 } },
        ],
        t,
      );
      expect(await state()).toEqual(stateBefore);
    });
  });

  it("is bootstrapped fresh in one round trip for the database and for each container, and again when they are there", async () => {
    const client = await connectCosmos({ endpoint: embedded.endpoint, key: EMBEDDED_KEY });
    try {
      const counted = async (run: () => Promise<unknown>) => {
        const before = embedded.requests();
        await run();
        return embedded.requests() - before;
      };
      expect(await counted(() => bootstrapCosmos(client, "bootstrap", { fresh: true }))).toBe(3);
      const { resource: tickets } = await client.database("bootstrap").container(TICKETS_CONTAINER).read();
      expect(tickets?.partitionKey?.paths).toEqual(["/ticketId"]);
      expect(tickets?.defaultTtl).toBe(-1);
      expect(tickets?.indexingPolicy?.compositeIndexes).toEqual(indexingPolicy.compositeIndexes);
      const { resource: leases } = await client.database("bootstrap").container(LEASES_CONTAINER).read();
      expect(leases?.partitionKey?.paths).toEqual(["/id"]);
      // Made already: each create answers 409, which is not a failure; read first (not fresh),
      // each is found and nothing is created.
      expect(await counted(() => bootstrapCosmos(client, "bootstrap", { fresh: true }))).toBe(3);
      expect(await counted(() => bootstrapCosmos(client, "bootstrap"))).toBe(3);
      // Any other refusal is: a database id Cosmos DB does not take.
      await expect(bootstrapCosmos(client, "", { fresh: true })).rejects.toMatchObject({ code: 400 });
    } finally {
      await client.database("bootstrap").delete();
      client.dispose();
    }
  });
});
