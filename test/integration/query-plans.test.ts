import type { RequestContext, Response } from "@azure/cosmos";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryPlanPlugin } from "../../shared/adapters/cosmos/query-plans.js";
import { startEmbeddedCosmos, type EmbeddedCosmos } from "../../shared/local/embedded-cosmos.js";
import { withContainer } from "../support/embedded-container.js";

/**
 * Query plans asked for once (shared/adapters/cosmos/query-plans.ts), through the real SDK
 * against the embedded endpoint, whose requests are counted: a cross-partition query's plan
 * once per text and TOP; a query within one partition, never. Also that the SDK still reads
 * the `plugins` option it keeps out of its typings: if an upgrade drops it, this fails.
 */
let embedded: EmbeddedCosmos;
beforeAll(async () => {
  embedded = await startEmbeddedCosmos();
});
afterAll(() => embedded.close());

describe("query plans", () => {
  it("are asked for once per query text and TOP, and never for a query within one partition", async () => {
    await withContainer(embedded, "plans", async (container) => {
      for (const [ticketId, id] of [
        ["t1", "a"],
        ["t1", "b"],
        ["t2", "c"],
      ])
        await container.items.create({ id, ticketId, type: "entry" });
      const counted = async (run: () => Promise<unknown>) => {
        const before = embedded.requests();
        const result = await run();
        return { requests: embedded.requests() - before, result };
      };
      const across = (top: number) => async () =>
        (
          await container.items
            .query<{ id: string }>(
              { query: "SELECT TOP @top c.id FROM c ORDER BY c.id DESC", parameters: [{ name: "@top", value: top }] },
              { forceQueryPlan: true },
            )
            .fetchAll()
        ).resources.map((d) => d.id);
      // The first: its plan, the container's key ranges (which the SDK keeps), the query.
      expect(await counted(across(2))).toEqual({ requests: 3, result: ["c", "b"] });
      expect(await counted(across(2))).toEqual({ requests: 1, result: ["c", "b"] });
      // Another TOP is another plan (Cosmos DB's plan carries the TOP).
      expect(await counted(across(3))).toEqual({ requests: 2, result: ["c", "b", "a"] });
      // Other values of a filter's parameters (a queue's next page, another requester) are the same plan.
      const after = (id: string) => async () =>
        (
          await container.items
            .query<{ id: string }>(
              {
                query: "SELECT TOP @top c.id FROM c WHERE c.id < @after ORDER BY c.id DESC",
                parameters: [
                  { name: "@top", value: 2 },
                  { name: "@after", value: id },
                ],
              },
              { forceQueryPlan: true },
            )
            .fetchAll()
        ).resources.map((d) => d.id);
      expect(await counted(after("c"))).toEqual({ requests: 2, result: ["b", "a"] });
      expect(await counted(after("b"))).toEqual({ requests: 1, result: ["a"] });
      const within = async () =>
        (
          await container.items.query<{ id: string }>("SELECT c.id FROM c ORDER BY c.id ASC", { partitionKey: "t1" }).fetchAll()
        ).resources.map((d) => d.id);
      expect(await counted(within)).toEqual({ requests: 1, result: ["a", "b"] });
    });
  });

  it("keeps no plan narrowed by a filter on the partition key or of a TOP it cannot read, and refuses a plan within one partition", async () => {
    const { plugin } = queryPlanPlugin();
    let asked = 0;
    const narrowed = { queryRanges: [{ min: "05C1", max: "05C2" }] };
    const next = async () => {
      asked++;
      return { headers: {}, result: narrowed, code: 200 } as Response<unknown>;
    };
    // As the SDK hands it to a request plugin: the body already written as JSON.
    const planRequest = (options: object, query = "SELECT * FROM c WHERE c.ticketId = @t"): RequestContext =>
      ({
        headers: { "x-ms-cosmos-is-query-plan-request": "True" },
        body: JSON.stringify({ query, parameters: [{ name: "@t", value: "t1" }] }),
        options,
      }) as unknown as RequestContext;
    await plugin(planRequest({}), undefined as never, next);
    await plugin(planRequest({}), undefined as never, next);
    expect(asked).toBe(2);
    await expect(plugin(planRequest({ partitionKey: "t1" }), undefined as never, next)).rejects.toThrow(/within one partition/);
    expect(asked).toBe(2);
    // A TOP of an expression: its value cannot be told apart, so its plan is never kept.
    const full = { queryRanges: [{ min: "", max: "FF" }] };
    const fullNext = async () => {
      asked++;
      return { headers: {}, result: full, code: 200 } as Response<unknown>;
    };
    for (let i = 0; i < 2; i++) await plugin(planRequest({}, "SELECT TOP (@t) * FROM c"), undefined as never, fullNext);
    expect(asked).toBe(4);
  });
});
