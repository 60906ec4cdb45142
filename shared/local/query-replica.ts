import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * The embedded endpoint's queries, answered by a replica of its documents in a worker
 * thread, so that a query over a large local store (a queue page scans every ticket) never
 * holds up the requests the local host's own thread serves meanwhile: a create, a point
 * read, another caller's request. Writes and point reads stay on the endpoint, where they
 * take microseconds.
 *
 * The endpoint (patches/@vercel+cosmosdb-server+1.0.1.patch) tells each change to
 * `account.onChange` as it makes it, and hands each query to `account.runQuery`. Both travel
 * over the worker's one message port, which keeps their order: a query sees every write the
 * endpoint answered before it, as Cosmos DB's session consistency promises the SDK. The
 * changes of one turn of the endpoint's event loop travel as one message (a message costs
 * far more than the few documents in it), and a query sends the changes before it first.
 */

/** What the patched endpoint's account offers (index.js, account/*.js in the patch). */
export interface ReplicatedAccount {
  onChange?: (change: Change) => void;
  runQuery?: (query: QueryRequest) => Promise<unknown>;
}

type Change =
  | { kind: "collection"; db: string; data: object }
  | { kind: "dropCollection"; db: string; coll: string }
  | { kind: "dropDatabase"; db: string }
  | { kind: "set" | "delete"; db: string; coll: string; doc: object };

interface QueryRequest {
  db: string;
  coll: string;
  body: unknown;
  options: unknown;
}

type Answer = { id: number; result: unknown } | { id: number; error: { message: string; badRequest: boolean } };

/**
 * The worker's code, run as it is (`eval`), so that the same function serves the bundled
 * host and the tests' TypeScript alike. It may use nothing from this module: only what it
 * requires, by the paths it is given.
 *
 * Each collection's documents by _rid, by partition, and by the value of any field a query
 * has compared with a string (`c.type = 'ticket'` as one of its WHERE's top-level ANDs) or
 * filtered on a list of scalars (`ARRAY_CONTAINS(@statuses, c.status)`, likewise): such a query
 * reads only those documents (or the fewer of them), since no other can match. Then the endpoint's own
 * query engine runs the query, with the collection's composite indexes, as the endpoint
 * would. (User-defined functions are not replicated: the product has none; a query calling
 * one fails, 400.)
 */
function replica(): void {
  // globalThis.require: the eval'd script's own, which bundlers leave as it is (a bare
  // `require` the bundle would rewrite to its own).
  const threads = globalThis.require("node:worker_threads") as typeof import("node:worker_threads");
  const parentPort = threads.parentPort!;
  const { engineModule } = threads.workerData as { engineModule: string };
  type Doc = Record<string, unknown> & { _rid: string };
  type Ast = { type?: string; [k: string]: unknown };
  interface Compiled {
    exec(docs: Doc[], options: object): unknown;
    ast: Ast;
  }
  // The engine (Babel, 4 MB) is loaded a second after the replica starts, not with it: a cold
  // start's first requests run no query, and need the cores meanwhile; a query before then loads it.
  let engine: ((sql: string) => Compiled) | undefined;
  const load = () => (engine ??= (globalThis.require(engineModule) as { default: (sql: string) => Compiled }).default);
  const compile = (sql: string) => load()(sql);
  /** The engine's helpers (patches/@zeit+cosmosdb-query+0.7.2.patch): its ORDER BY, over documents, and the mark of a sorted array. */
  type Orders = [keys: string[], desc: boolean][];
  type EngineHelpers = { documentOrder: (orders: Orders) => (a: Doc, b: Doc) => number; documentsInOrder: WeakMap<Doc[], string> };
  let engineHelpers: EngineHelpers | undefined;
  const helpers = (): EngineHelpers => {
    if (engineHelpers) return engineHelpers;
    load();
    const path = globalThis.require("node:path") as typeof import("node:path");
    return (engineHelpers = globalThis.require(path.join(path.dirname(engineModule), "helpers.js")) as EngineHelpers);
  };
  setTimeout(load, 1000).unref();
  /**
   * The documents whose `field` is `value`, sorted in one ORDER BY (`signature`, as the query's
   * code spells it). Writes are noted, not applied (a splice into an array of 100,000 costs
   * hundreds of microseconds): the next query of the view applies them, a few spliced in place,
   * many merged in one copy.
   */
  interface SortedView {
    field: string;
    value: string;
    signature: string;
    compare: (a: Doc, b: Doc) => number;
    docs: Doc[];
    added: Set<Doc>;
    removed: Set<Doc>;
  }
  interface Collection {
    compositeIndexes: unknown;
    partitionPath: string[];
    docs: Map<string, Doc>;
    partitions: Map<unknown, Map<string, Doc>>;
    byField: Map<string, Map<unknown, Map<string, Doc>>>;
    sorted: Map<string, SortedView>;
  }
  const collections = new Map<string, Collection>();
  const key = (db: string, coll: string) => JSON.stringify([db, coll]);
  const valueAt = (doc: Doc, path: string[]) =>
    path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Doc)[k] : undefined), doc);
  const add = (index: Map<unknown, Map<string, Doc>>, value: unknown, doc: Doc) => {
    let docs = index.get(value);
    if (!docs) index.set(value, (docs = new Map<string, Doc>()));
    docs.set(doc._rid, doc);
  };
  const remove = (index: Map<unknown, Map<string, Doc>>, value: unknown, rid: string) => {
    const docs = index.get(value);
    if (docs?.delete(rid) && !docs.size) index.delete(value);
  };
  /**
   * Views kept per collection, the least recently queried dropped first; how many noted writes a
   * view takes before it is dropped (sorting afresh is then cheaper); and up to how many are
   * spliced in rather than merged.
   */
  const VIEWS = 8;
  const PENDING = 20_000;
  const SPLICES = 16;
  const note = (c: Collection, name: string, view: SortedView) => {
    if (view.added.size + view.removed.size > PENDING) c.sorted.delete(name);
  };
  const unset = (c: Collection, rid: string) => {
    const old = c.docs.get(rid);
    if (!old) return;
    c.docs.delete(rid);
    remove(c.partitions, valueAt(old, c.partitionPath), rid);
    for (const [field, index] of c.byField) remove(index, old[field], rid);
    for (const [name, view] of c.sorted) {
      if (old[view.field] !== view.value) continue;
      if (!view.added.delete(old)) view.removed.add(old);
      note(c, name, view);
    }
  };
  const set = (c: Collection, doc: Doc) => {
    unset(c, doc._rid);
    c.docs.set(doc._rid, doc);
    add(c.partitions, valueAt(doc, c.partitionPath), doc);
    for (const [field, index] of c.byField) add(index, doc[field], doc);
    for (const [name, view] of c.sorted) {
      if (doc[view.field] !== view.value) continue;
      view.added.add(doc);
      note(c, name, view);
    }
  };

  /** The alias of a plain FROM (the collection itself, no JOIN, no `IN`), or null. */
  const aliasOf = (ast: Ast): string | null => {
    const from = (ast.body as Ast).from as { source: { expression: Ast; alias: Ast | null }; joins: unknown[] } | undefined;
    if (
      !from ||
      from.joins.length ||
      from.source.expression.type !== "collection_expression" ||
      (from.source as { iteration?: boolean }).iteration
    )
      return null;
    return ((from.source.alias ?? (from.source.expression.expression as Ast)) as { name?: string }).name ?? null;
  };
  /** The WHERE's top-level ANDs, over a plain FROM, and the FROM's alias: none for any other query. */
  const topLevelTerms = (ast: Ast): { alias: string; terms: Ast[] } => {
    const where = ((ast.body as Ast).where as { condition: Ast } | undefined)?.condition;
    const alias = aliasOf(ast);
    const terms: Ast[] = [];
    const walk = (e: Ast): void => {
      if (e.type === "scalar_binary_expression" && e.operator === "AND") {
        walk(e.left as Ast);
        walk(e.right as Ast);
      } else terms.push(e);
    };
    if (where && alias !== null) walk(where);
    return { alias: alias ?? "", terms };
  };
  /** The key a member expression reads (`x.key` or `x["key"]`), or undefined for a computed one. */
  const keyOf = (member: Ast): string | undefined => {
    const property = member.property as { type?: string; name?: string; value?: unknown } | undefined;
    const key = property?.type === "identifier" ? property.name : property?.type === "string_constant" ? property.value : undefined;
    return typeof key === "string" ? key : undefined;
  };
  /** The field of `alias.field` (or `alias["field"]`), or undefined for any other expression. */
  const fieldOf = (member: Ast, alias: string): string | undefined => {
    const object = member.object as { type?: string; name?: string } | undefined;
    return member.type === "scalar_member_expression" && object?.type === "identifier" && object.name === alias ? keyOf(member) : undefined;
  };
  type Terms = ReturnType<typeof topLevelTerms>;
  /** The first `alias.field = 'text'` among the WHERE's top-level ANDs, over a plain FROM, if there is one. */
  const equality = ({ alias, terms }: Terms): { field: string; value: string } | null => {
    for (const e of terms) {
      if (e.type !== "scalar_binary_expression" || e.operator !== "=") continue;
      for (const [member, constant] of [
        [e.left, e.right],
        [e.right, e.left],
      ] as [Ast, Ast][]) {
        const field = fieldOf(member, alias);
        if (field !== undefined && constant.type === "string_constant" && typeof constant.value === "string")
          return { field, value: constant.value };
      }
    }
    return null;
  };
  /**
   * Each `ARRAY_CONTAINS(@list, alias.field)` among the WHERE's top-level ANDs, over a plain FROM:
   * the queue's filters (status, severity, SLA state, priority). The documents one can match are
   * those whose field holds one of the list's values, which the field's index holds apart.
   */
  const listFilters = ({ alias, terms }: Terms): { field: string; parameter: string }[] =>
    terms.flatMap((e) => {
      const args = e.arguments as Ast[] | undefined;
      const name = (e.name as { name?: string } | undefined)?.name?.toUpperCase();
      // A third argument (partial matching) is left to the engine: the queue sends none.
      if (e.type !== "scalar_function_expression" || e.udf || name !== "ARRAY_CONTAINS" || args?.length !== 2) return [];
      const field = fieldOf(args[1]!, alias);
      return args[0]!.type === "parameter_name" && field !== undefined ? [{ field, parameter: args[0]!.name as string }] : [];
    });
  /**
   * A TOP's ORDER BY of plain paths below the FROM alias, as the query's code spells it
   * (`[[["c", "rank"], false], ...]`), or null. (Any other query the engine runs its own way,
   * and a mark of this ORDER BY on its documents changes nothing for it.)
   */
  const topOrder = (ast: Ast): Orders | null => {
    const body = ast.body as Ast;
    const expressions = (body.orderBy as { expressions?: { expression: Ast; order: string | null }[] } | undefined)?.expressions;
    const alias = aliasOf(ast);
    if (!body.top || !expressions?.length || alias === null) return null;
    const orders: Orders = [];
    for (const { expression, order } of expressions) {
      const keys: string[] = [];
      let e = expression;
      for (; e.type === "scalar_member_expression"; e = e.object as Ast) {
        const key = keyOf(e);
        if (key === undefined) return null;
        keys.unshift(key);
      }
      if (e.type !== "identifier" || (e as { name?: string }).name !== alias || !keys.length) return null;
      orders.push([[alias, ...keys], order === "DESC"]);
    }
    return orders;
  };
  interface Plan {
    compiled: Compiled;
    equal: { field: string; value: string } | null;
    lists: { field: string; parameter: string }[];
    orders: Orders | null;
  }
  const plans = new Map<string, Plan>();
  const planOf = (sql: string) => {
    let plan = plans.get(sql);
    if (!plan) {
      const compiled = compile(sql);
      const terms = topLevelTerms(compiled.ast);
      plan = { compiled, equal: equality(terms), lists: listFilters(terms), orders: topOrder(compiled.ast) };
      if (plans.size >= 500) plans.delete(plans.keys().next().value!);
      plans.set(sql, plan);
    }
    return plan;
  };
  const query = (
    c: Collection,
    body: { query: string; parameters?: unknown },
    options: { partition?: { none?: boolean; value?: unknown } },
  ) => {
    const { compiled, equal, lists, orders } = planOf(body.query);
    let source: Map<string, Doc> | undefined = c.docs;
    let docs: Doc[] | undefined;
    let keep: (() => void) | undefined;
    if (options.partition) source = c.partitions.get(options.partition.none ? undefined : options.partition.value);
    else {
      if (equal) source = indexOf(c, equal.field).get(equal.value);
      // A few documents a list filter can match (a queue filtered on a rare status, or on one
      // that none has): those alone, which the engine sorts itself. Many: the ordered view below
      // is quicker, where the engine stops at the TOP-th match; or, with no view to use, whichever
      // of the two sets is smaller.
      const listed = fewestListed(c, lists, body.parameters);
      const view = equal !== null && orders !== null;
      if (listed && (listed.count <= FEW || (!view && listed.count < (source?.size ?? 0)))) docs = listed.docs();
      // A TOP over an ORDER BY (the queue's pages): those documents kept in that order, so that
      // the engine stops at the TOP-th match rather than read them all.
      else if (equal && orders && !(docs = sortedDocs(c, equal, orders)))
        keep = () => c.sorted.has(viewName(equal, orders)) || keepSorted(c, equal, orders);
    }
    const result = compiled.exec(docs ?? [...(source?.values() ?? [])], {
      ...options,
      parameters: body.parameters,
      udf: {},
      compositeIndexes: c.compositeIndexes,
    });
    // Kept from the first such query that the engine answers (one it refuses, for want of a
    // composite index, keeps nothing), for the next; sorted once this answer has gone.
    if (keep) setImmediate(keep);
    return result;
  };

  /** The index of a field's values: built at the first query on that field, kept from then on. */
  const indexOf = (c: Collection, field: string) => {
    let index = c.byField.get(field);
    if (!index) {
      c.byField.set(field, (index = new Map<unknown, Map<string, Doc>>()));
      for (const doc of c.docs.values()) add(index, doc[field], doc);
    }
    return index;
  };
  /** Up to how many documents a list filter can match for them alone to be read, not an ordered view. */
  const FEW = 1_000;
  /**
   * The documents the most selective list filter can match (those whose field holds one of its
   * list's values): how many, and the documents themselves, gathered only if asked for. Null
   * when no filter's list is an array of scalars (an object in it is matched by its contents,
   * not found by key: the engine then reads them all, as it would anyway).
   */
  const fewestListed = (c: Collection, lists: Plan["lists"], parameters: unknown): { count: number; docs: () => Doc[] } | null => {
    let fewest: { count: number; docs: () => Doc[] } | null = null;
    for (const { field, parameter } of lists) {
      // As the engine reads parameters: by the name after its first character, the last one given winning.
      const named = (Array.isArray(parameters) ? (parameters as { name?: unknown; value?: unknown }[]) : []).filter(
        (p) => typeof p?.name === "string" && p.name.slice(1) === parameter.slice(1),
      );
      const list = named[named.length - 1]?.value;
      if (!Array.isArray(list) || !list.every((v) => v === null || ["string", "number", "boolean"].includes(typeof v))) continue;
      const index = indexOf(c, field);
      // A document holds one value of a field: the values' sets are disjoint, once each value is taken once.
      const sets = [...new Set(list)].flatMap((v) => index.get(v) ?? []);
      const count = sets.reduce((sum, docs) => sum + docs.size, 0);
      if (!fewest || count < fewest.count) fewest = { count, docs: () => sets.flatMap((docs) => [...docs.values()]) };
    }
    return fewest;
  };
  const viewName = (equal: { field: string; value: string }, orders: Orders) => JSON.stringify([equal.field, equal.value, orders]);
  const keepSorted = (c: Collection, equal: { field: string; value: string }, orders: Orders) => {
    const { documentOrder, documentsInOrder } = helpers();
    const signature = JSON.stringify(orders);
    const compare = documentOrder(orders);
    const docs = [...(indexOf(c, equal.field).get(equal.value)?.values() ?? [])].sort(compare);
    documentsInOrder.set(docs, signature);
    if (c.sorted.size >= VIEWS) c.sorted.delete(c.sorted.keys().next().value!);
    c.sorted.set(viewName(equal, orders), { ...equal, signature, compare, docs, added: new Set(), removed: new Set() });
  };
  /**
   * The writes noted since the view's last query, applied: each placed by binary search (a
   * removed one checked by identity: the engine orders two distinct arrays of equal text each
   * after the other); a few spliced in place, many merged in one copy.
   */
  const applyNoted = (view: SortedView) => {
    if (!view.added.size && !view.removed.size) return;
    const { docs, compare } = view;
    const lowerBound = (doc: Doc) => {
      let lo = 0;
      let hi = docs.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compare(docs[mid]!, doc) < 0) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const positionOf = (doc: Doc) => {
      const at = lowerBound(doc);
      return docs[at] === doc ? at : docs.indexOf(doc);
    };
    if (view.added.size + view.removed.size <= SPLICES) {
      // A few (a page between a few creates): cheaper than a copy of them all.
      for (const doc of view.removed) {
        const at = positionOf(doc);
        if (at >= 0) docs.splice(at, 1);
      }
      for (const doc of view.added) docs.splice(lowerBound(doc), 0, doc);
    } else {
      const dropped = [...view.removed]
        .map(positionOf)
        .filter((at) => at >= 0)
        .sort((x, y) => x - y);
      const added = [...view.added].sort(compare);
      const addedAt = added.map(lowerBound);
      const merged: Doc[] = [];
      for (let j = 0, a = 0, d = 0; j <= docs.length; j++) {
        while (a < added.length && addedAt[a]! <= j) merged.push(added[a++]!);
        if (j === docs.length) break;
        if (dropped[d] === j) d++;
        else merged.push(docs[j]!);
      }
      helpers().documentsInOrder.set(merged, view.signature);
      view.docs = merged;
    }
    view.added.clear();
    view.removed.clear();
  };
  /** The view's documents with the writes noted since its last query applied, or undefined when there is no view. */
  const sortedDocs = (c: Collection, equal: { field: string; value: string }, orders: Orders): Doc[] | undefined => {
    const name = viewName(equal, orders);
    const view = c.sorted.get(name);
    if (!view) return undefined;
    // The most recently queried last: the first to go is the one queried longest ago.
    c.sorted.delete(name);
    c.sorted.set(name, view);
    applyNoted(view);
    return view.docs;
  };

  const apply = (m: Change) => {
    switch (m.kind) {
      case "collection": {
        const data = m.data as { id: string; partitionKey?: { paths?: string[] }; indexingPolicy?: { compositeIndexes?: unknown } };
        const path = data.partitionKey?.paths?.[0] ?? "/id";
        collections.set(key(m.db, data.id), {
          compositeIndexes: data.indexingPolicy?.compositeIndexes ?? [],
          partitionPath: path.slice(1).split("/"),
          docs: new Map(),
          partitions: new Map(),
          byField: new Map(),
          sorted: new Map(),
        });
        break;
      }
      case "dropCollection":
        collections.delete(key(m.db, m.coll));
        break;
      case "dropDatabase":
        for (const k of [...collections.keys()]) if ((JSON.parse(k) as string[])[0] === m.db) collections.delete(k);
        break;
      case "set": {
        const c = collections.get(key(m.db, m.coll));
        if (c) set(c, m.doc as Doc);
        break;
      }
      case "delete": {
        // By _rid, which the endpoint gave the document: the replica holds it under that.
        const c = collections.get(key(m.db, m.coll));
        if (c) unset(c, (m.doc as Doc)._rid);
        break;
      }
    }
  };

  parentPort.on("message", (m: Change[] | (QueryRequest & { kind: "query"; id: number })) => {
    if (Array.isArray(m)) {
      for (const change of m) apply(change);
      return;
    }
    const c = collections.get(key(m.db, m.coll));
    try {
      // No such collection answers as the endpoint does: nothing (its handler says 404).
      const result = c ? query(c, m.body as { query: string }, m.options as object) : null;
      parentPort.postMessage({ id: m.id, result });
    } catch (e) {
      // As the endpoint's own query does: whatever the engine refuses is the query's fault.
      parentPort.postMessage({ id: m.id, error: { message: String((e as Error).message), badRequest: true } });
    }
  });
}

export interface QueryReplica {
  close(): Promise<void>;
}

/**
 * A worker's code from a self-contained function, to run with `eval: true`: it is called, with
 * `__name` defined, the helper esbuild's keepNames (tsx, the bundle) wraps named functions in.
 */
export const workerSourceOf = (run: () => void): string => `const __name = (target) => target;\n(${run.toString()})();`;

/**
 * The replica worker's code and what it is given, for whoever starts it: this module on the
 * host's thread, or the embedded endpoint's own worker (embedded-cosmos.ts), which has no
 * modules of ours and starts it from this source.
 */
export function replicaWorkerOf(): { source: string; workerData: { engineModule: string } } {
  const require = createRequire(import.meta.url);
  return {
    source: workerSourceOf(replica),
    // The endpoint's own query engine, as the endpoint resolves it (a dependency of its own).
    workerData: { engineModule: createRequire(require.resolve("@vercel/cosmosdb-server")).resolve("@zeit/cosmosdb-query") },
  };
}

/** Keeps a replica of `account` in a worker thread and answers its queries from there. */
export function replicateQueries(account: ReplicatedAccount, log: (line: string) => void): QueryReplica {
  const { source, workerData } = replicaWorkerOf();
  return wireReplica(account, new Worker(source, { eval: true, workerData }), log);
}

/**
 * Hands `account`'s changes and queries to the replica `worker`. Self-contained (it uses its
 * arguments alone), so that the embedded endpoint's worker runs this very function from its
 * source (`wireReplica.toString()`).
 */
export function wireReplica(account: ReplicatedAccount, worker: Worker, log: (line: string) => void): QueryReplica {
  // The host's own lifetime decides; the replica never keeps a process alive.
  worker.unref();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failed: Error | undefined;
  worker.on("message", (answer: Answer) => {
    const waiting = pending.get(answer.id);
    pending.delete(answer.id);
    if (!waiting) return;
    if ("result" in answer) waiting.resolve(answer.result);
    else waiting.reject(Object.assign(new Error(answer.error.message), { badRequest: answer.error.badRequest }));
  });
  // A replica that failed (out of memory, a bug) hands the queries back to the endpoint,
  // which still holds every document: slower (on the endpoint's thread), never wrong. The
  // queries it held are answered with an error, which the SDK's retry or the client's meets.
  const fail = (e: Error) => {
    if (failed) return;
    failed = e;
    delete account.onChange;
    delete account.runQuery;
    for (const { reject } of pending.values()) reject(failed);
    pending.clear();
  };
  worker.on("error", (e) => {
    log(`embedded store: its query replica failed (${e.message}); the endpoint answers its queries itself from now on`);
    fail(e);
  });
  worker.on("exit", () => fail(new Error("The embedded store's query replica has stopped.")));
  // The changes not sent yet, in order: sent once this turn of the event loop is over, or
  // before a query, whichever comes first.
  let changes: Change[] = [];
  const send = () => {
    if (!changes.length) return;
    worker.postMessage(changes);
    changes = [];
  };
  account.onChange = (change) => {
    if (!changes.length) setImmediate(send);
    changes.push(change);
  };
  account.runQuery = (query) =>
    new Promise((resolve, reject) => {
      send();
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...query, kind: "query", id });
    });
  return {
    close: async () => {
      fail(new Error("The embedded store has stopped."));
      await worker.terminate();
    },
  };
}
