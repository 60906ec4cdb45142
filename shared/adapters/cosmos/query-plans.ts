import type { PluginConfig, RequestContext, Response, SqlQuerySpec } from "@azure/cosmos";
import { LRUCache } from "lru-cache";

/**
 * Query plans, asked for once. @azure/cosmos asks Cosmos DB for a query's plan beside every
 * query it sends (QueryIterator.fetchQueryPlan, for every page of every `items.query`): a
 * second round trip per page. This request plugin (the SDK's `plugins` client option) answers
 * those requests itself where it safely can:
 *
 * - A query scoped to one partition (FeedOptions.partitionKey) never uses its plan: the SDK
 *   sends it as it is, and Cosmos DB runs any query within one partition. Its plan request is
 *   refused here, never sent. Were the plan ever wanted, the query would fail loudly: a plan
 *   made up here would be run over every partition's key range, and the SDK's pipelined path
 *   drops the partition key (see FeedOptions.forceQueryPlan), so it could return other
 *   tickets' documents.
 * - A cross-partition query's plan is asked for once and kept. A plan depends on the query's
 *   text, on its TOP, OFFSET and LIMIT values (which it carries), and on any filter on the
 *   partition key (which narrows its key ranges). So it is kept under the text and those
 *   values, and only when it spans the whole key range: a plan narrowed by a partition-key
 *   filter may hold for those filter values only.
 *
 * With `forceQueryPlan` on a cross-partition query (ticket-store.ts), the SDK goes straight to
 * the plan instead of first trying the query whole (which Cosmos DB refuses for ORDER BY or TOP
 * across partitions, a wasted round trip): one request per physical partition, and none for
 * the plan once it is kept.
 */

/** The header @azure/cosmos sets on a query-plan request (ClientContext.getQueryPlan). */
const QUERY_PLAN_HEADER = "x-ms-cosmos-is-query-plan-request";
/** Different query texts the queue can send: its filters, orders and views combined, with room to spare. */
const KEPT_PLANS = 1_000;
const FULL_RANGE = { min: "", max: "FF" };

interface Plan {
  queryRanges?: { min: string; max: string }[];
}

/**
 * The text and the values that shape a plan: those of the parameters its TOP, OFFSET or LIMIT
 * name. Null when one of those takes anything but a number or a parameter (an expression):
 * such a plan is not kept, since its values could not be told apart here.
 */
function planKey(spec: SqlQuerySpec): string | null {
  const clauses = [...spec.query.matchAll(/\b(?:TOP|OFFSET|LIMIT)\s+(\S+)/gi)].map(([, operand]) => operand!);
  if (!clauses.every((operand) => /^(?:\d+|@\w+)$/.test(operand))) return null;
  const shaping = clauses.filter((operand) => operand.startsWith("@")).map((name) => name.toLowerCase());
  const values = (spec.parameters ?? []).filter((p) => shaping.includes(p.name.toLowerCase())).map((p) => [p.name, p.value]);
  return JSON.stringify([spec.query, values]);
}

const spansEveryPartition = (plan: Plan): boolean =>
  plan.queryRanges?.length === 1 && plan.queryRanges[0]!.min === FULL_RANGE.min && plan.queryRanges[0]!.max === FULL_RANGE.max;

export function queryPlanPlugin(): PluginConfig {
  const kept = new LRUCache<string, Response<unknown>>({ max: KEPT_PLANS });
  return {
    on: "request",
    plugin: async (context: RequestContext, _diagnostics, next) => {
      if (String(context.headers?.[QUERY_PLAN_HEADER]).toLowerCase() !== "true") return next(context);
      if ((context.options as { partitionKey?: unknown }).partitionKey !== undefined)
        throw new Error("A query within one partition runs without a plan; none was asked of Cosmos DB.");
      // By the time a request plugin runs, the SDK has written the body as JSON (RequestHandler).
      const spec = (typeof context.body === "string" ? JSON.parse(context.body) : context.body) as SqlQuerySpec;
      const key = planKey(spec);
      if (key === null) return next(context);
      const hit = kept.get(key);
      // The kept plan without the headers of the response it came in (its session token is old).
      if (hit) return { result: hit.result, headers: {}, code: hit.code };
      const response = await next(context);
      if (response.result && spansEveryPartition(response.result as Plan)) kept.set(key, response);
      return response;
    },
  };
}
