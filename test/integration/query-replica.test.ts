import { describe, expect, it } from "vitest";
import { replicateQueries, type ReplicatedAccount } from "../../shared/local/query-replica.js";

/**
 * The query replica's own contract, on an account of its own (the embedded endpoint's tests
 * cover it behind the endpoint): it answers from what it was told, a query seeing every change
 * told before it (the changes of a turn travel together, after it or before a query), and one
 * that fails hands the queries back to the endpoint rather than failing them from then on.
 */
/**
 * The documents of collection "c" of database "d" as told to the replica, kept beside it: the
 * randomized tests check its answers against them.
 */
function mirrored<D extends { id: string }>(account: ReplicatedAccount) {
  const docs = new Map<string, D>();
  const write = (d: D) => {
    docs.set(d.id, d);
    account.onChange!({ kind: "set", db: "d", coll: "c", doc: d });
  };
  const remove = (d: D) => {
    docs.delete(d.id);
    account.onChange!({ kind: "delete", db: "d", coll: "c", doc: d });
  };
  return { docs, write, remove };
}

/** A pick among values, from a deterministic generator (a test that fails is replayed as it ran). */
const picker =
  (random: () => number) =>
  <T>(xs: readonly T[]): T =>
    xs[Math.floor(random() * xs.length)]!;

describe("the query replica", () => {
  it("answers from the changes it was told, and once it fails, gives the endpoint its queries back", async () => {
    const account: ReplicatedAccount = {};
    let failed!: () => void;
    const failure = new Promise<void>((resolve) => (failed = resolve));
    const logged: string[] = [];
    const replica = replicateQueries(account, (line) => {
      logged.push(line);
      failed();
    });
    try {
      account.onChange!({ kind: "collection", db: "d", data: { id: "c", partitionKey: { paths: ["/p"] } } });
      account.onChange!({ kind: "set", db: "d", coll: "c", doc: { id: "x", p: "1", _rid: "r1" } });
      const query = { db: "d", coll: "c", body: { query: "SELECT VALUE c.id FROM c" }, options: {} };
      expect(((await account.runQuery!(query)) as { result: unknown[] }).result).toEqual(["x"]);
      // A change it cannot apply (no document) stops its thread.
      account.onChange!({ kind: "set", db: "d", coll: "c", doc: null as unknown as object });
      await failure;
      expect(logged.join("\n")).toMatch(/query replica failed .*the endpoint answers its queries itself/);
      expect(account.runQuery).toBeUndefined();
      expect(account.onChange).toBeUndefined();
    } finally {
      await replica.close();
    }
  });

  it("answers a query with every change told before it, in the same turn of the event loop or before", async () => {
    const account: ReplicatedAccount = {};
    const replica = replicateQueries(account, (line) => console.error(line));
    const ask = async (query: string) =>
      ((await account.runQuery!({ db: "d", coll: "c", body: { query }, options: {} })) as { result: unknown[] }).result;
    try {
      account.onChange!({ kind: "collection", db: "d", data: { id: "c", partitionKey: { paths: ["/p"] } } });
      account.onChange!({ kind: "set", db: "d", coll: "c", doc: { id: "x", p: "1", _rid: "r1", v: 1 } });
      expect(await ask("SELECT VALUE c.v FROM c")).toEqual([1]);
      account.onChange!({ kind: "set", db: "d", coll: "c", doc: { id: "x", p: "1", _rid: "r1", v: 2 } });
      account.onChange!({ kind: "set", db: "d", coll: "c", doc: { id: "y", p: "2", _rid: "r2", v: 3 } });
      expect(await ask("SELECT VALUE c.v FROM c ORDER BY c.v")).toEqual([2, 3]);
      account.onChange!({ kind: "delete", db: "d", coll: "c", doc: { id: "x", _rid: "r1" } });
      expect(await ask("SELECT VALUE c.v FROM c")).toEqual([3]);
      // Told with nothing asked after it in that turn: applied once the turn is over.
      account.onChange!({ kind: "set", db: "d", coll: "c", doc: { id: "z", p: "3", _rid: "r3", v: 4 } });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await ask("SELECT VALUE c.v FROM c ORDER BY c.v")).toEqual([3, 4]);
    } finally {
      await replica.close();
    }
  });

  it("answers a TOP over ORDER BY from documents it keeps in that order, as a full read would, through every kind of change", async () => {
    const account: ReplicatedAccount = {};
    const replica = replicateQueries(account, (line) => console.error(line));
    type D = { id: string; _rid: string; type: string; status: string; rank?: unknown; at: string };
    const { docs, write, remove } = mirrored<D>(account);
    let seed = 7;
    const pick = picker(() => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // Ranks of the types Cosmos DB orders (undefined lowest, then null, booleans, numbers,
    // strings, objects, which tie among themselves). (Arrays are left out: the engine orders two
    // arrays by their text, which is no order at all when they are equal.)
    const ranks = [undefined, null, false, 1, 2, 2, 3, "high", { level: 1 }] as const;
    const ats = ["2026-01-01", "2026-01-02", "2026-01-03"];
    const order = ["undefined", "null", "boolean", "number", "string", "object"];
    const typeOf = (v: unknown) => (v === null ? "null" : typeof v);
    const cmp = (a: unknown, b: unknown) =>
      typeOf(a) !== typeOf(b)
        ? order.indexOf(typeOf(a)) - order.indexOf(typeOf(b))
        : a === b || typeOf(a) === "object"
          ? 0
          : (a as number) < (b as number)
            ? -1
            : 1;
    const expected = (limit: number, after: string, desc: boolean) =>
      [...docs.values()]
        .filter((d) => d.type === "ticket" && d.status === "open" && d.at > after)
        .sort((a, b) =>
          desc
            ? cmp(b.at, a.at) || cmp(b.id, a.id) || cmp(a._rid, b._rid)
            : cmp(a.rank, b.rank) || cmp(a.at, b.at) || cmp(a.id, b.id) || cmp(a._rid, b._rid),
        )
        .slice(0, limit)
        .map((d) => d.id);
    const ask = async (limit: number, after: string, desc: boolean) => {
      const orderBy = desc ? "c.at DESC, c.id DESC" : "c.rank ASC, c.at ASC, c.id ASC";
      const query = `SELECT TOP @limit VALUE c.id FROM c WHERE c.type = 'ticket' AND c.status = 'open' AND c.at > @after ORDER BY ${orderBy}`;
      const parameters = [
        { name: "@limit", value: limit },
        { name: "@after", value: after },
      ];
      return ((await account.runQuery!({ db: "d", coll: "c", body: { query, parameters }, options: {} })) as { result: unknown[] }).result;
    };
    const compositeIndexes = [
      [
        { path: "/rank", order: "ascending" },
        { path: "/at", order: "ascending" },
        { path: "/id", order: "ascending" },
      ],
      [
        { path: "/at", order: "descending" },
        { path: "/id", order: "descending" },
      ],
    ];
    let rid = 0;
    const fresh = (id: string): D => ({
      id,
      _rid: `r${++rid}`,
      type: pick(["ticket", "ticket", "ticket", "entry"]),
      status: pick(["open", "open", "closed"]),
      rank: pick(ranks),
      at: pick(ats),
    });
    try {
      account.onChange!({
        kind: "collection",
        db: "d",
        data: { id: "c", partitionKey: { paths: ["/id"] }, indexingPolicy: { compositeIndexes } },
      });
      for (let i = 0; i < 200; i++) write(fresh(`t${String(i).padStart(3, "0")}`));
      for (let round = 0; round < 40; round++) {
        for (const [limit, after, desc] of [
          [5, "", false],
          [26, "2026-01-01", false],
          [5, "", true],
          [300, "", false],
        ] as const)
          expect(await ask(limit, after, desc), `round ${round}: TOP ${limit} after ${after}${desc ? " DESC" : ""}`).toEqual(
            expected(limit, after, desc),
          );
        // Changes of every kind between queries: new documents, sort keys and filtered fields moved, deletes.
        // (A few between two queries are spliced in, many merged: both, in turn.)
        for (let k = 0; k < (round % 2 ? 40 : 6); k++) {
          const ids = [...docs.keys()];
          const action = pick(["new", "move", "move", "delete"]);
          if (action === "new") write(fresh(`n${round}-${k}`));
          else if (action === "move") {
            const d = docs.get(pick(ids))!;
            write({ ...d, rank: pick(ranks), at: pick(ats), status: pick(["open", "closed"]), type: pick(["ticket", "ticket", "entry"]) });
          } else remove(docs.get(pick(ids))!);
        }
        // And documents written more than once between two queries: new and moved at once, new and gone.
        const moved = fresh(`m${round}`);
        write(moved);
        write({ ...moved, rank: pick(ranks), status: "open", type: "ticket" });
        const gone = fresh(`g${round}`);
        write(gone);
        remove(gone);
      }
    } finally {
      await replica.close();
    }
  });

  it("keeps no sorted documents from a query of one partition: the same query across partitions then sees them all", async () => {
    const account: ReplicatedAccount = {};
    const replica = replicateQueries(account, (line) => console.error(line));
    const query = "SELECT TOP 10 VALUE c.id FROM c WHERE c.type = 'ticket' ORDER BY c.id ASC";
    const ask = async (options: object) =>
      ((await account.runQuery!({ db: "d", coll: "c", body: { query }, options })) as { result: unknown[] }).result;
    try {
      account.onChange!({ kind: "collection", db: "d", data: { id: "c", partitionKey: { paths: ["/p"] } } });
      for (const [id, p] of [
        ["a", "1"],
        ["b", "2"],
        ["c", "1"],
      ])
        account.onChange!({ kind: "set", db: "d", coll: "c", doc: { id, p, type: "ticket", _rid: `r-${id}` } });
      expect(await ask({ partition: { value: "1" } })).toEqual(["a", "c"]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await ask({})).toEqual(["a", "b", "c"]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      account.onChange!({ kind: "set", db: "d", coll: "c", doc: { id: "d", p: "2", type: "ticket", _rid: "r-d" } });
      expect(await ask({})).toEqual(["a", "b", "c", "d"]);
    } finally {
      await replica.close();
    }
  });

  it("answers a list filter (ARRAY_CONTAINS of a parameter) from the documents holding its values when they are few, as a full read would", async () => {
    const account: ReplicatedAccount = {};
    const replica = replicateQueries(account, (line) => console.error(line));
    type D = { id: string; p: string; _rid: string; type: string; status?: unknown; at: string };
    const { docs, write, remove } = mirrored<D>(account);
    let seed = 11;
    const pick = picker(() => (seed = (seed * 48271) % 2147483647) / 2147483647);
    // Open is most of them (more than the replica reads alone, FEW), the rest rare; a number, a
    // string of it, null, a missing status and an object, which a list matches by its contents.
    const statuses = [...Array<string>(12).fill("open"), "new", "pending", 1, "1", null, undefined, { s: "x" }] as const;
    const lists: unknown[][] = [
      [],
      ["open"],
      ["closed"],
      ["new", "pending"],
      ["new", "new"],
      [1],
      ["1"],
      [null],
      [true],
      [{ s: "x" }],
      ["open", "new"],
    ];
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const matches = (d: D, list: unknown[]) => d.status !== undefined && list.some((v) => same(v, d.status));
    const ids = (ds: D[]) => ds.map((d) => d.id).sort();
    const byAtDesc = (a: D, b: D) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1);
    const ask = async (query: string, parameters: object[], options: object = {}) =>
      ((await account.runQuery!({ db: "d", coll: "c", body: { query, parameters }, options })) as { result: string[] }).result;
    let rid = 0;
    const fresh = (id: string): D => ({
      id,
      p: pick(["1", "2"]),
      _rid: `r${++rid}`,
      type: pick(["ticket", "ticket", "entry"]),
      status: pick(statuses),
      at: pick(["2026-01-01", "2026-01-02", "2026-01-03"]),
    });
    try {
      const compositeIndexes = [
        [
          { path: "/at", order: "descending" },
          { path: "/id", order: "descending" },
        ],
      ];
      account.onChange!({
        kind: "collection",
        db: "d",
        data: { id: "c", partitionKey: { paths: ["/p"] }, indexingPolicy: { compositeIndexes } },
      });
      for (let i = 0; i < 2_500; i++) write(fresh(`t${String(i).padStart(4, "0")}`));
      for (let round = 0; round < 8; round++) {
        for (const list of lists) {
          const what = `round ${round}, ${JSON.stringify(list)}`;
          const statusesOf = { name: "@statuses", value: list };
          const tickets = [...docs.values()].filter((d) => d.type === "ticket" && matches(d, list)).sort(byAtDesc);
          // The queue's shape: a TOP over an ORDER BY, the type compared and the list.
          const page =
            "SELECT TOP @limit VALUE c.id FROM c WHERE c.type = 'ticket' AND ARRAY_CONTAINS(@statuses, c.status) ORDER BY c.at DESC, c.id DESC";
          expect(await ask(page, [{ name: "@limit", value: 26 }, statusesOf]), what).toEqual(tickets.slice(0, 26).map((d) => d.id));
          // No order, no type: the same documents, in no order of Cosmos DB's.
          const all = (await ask("SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(@statuses, c.status)", [statusesOf])).sort();
          expect(all, what).toEqual(
            [...docs.values()]
              .filter((d) => matches(d, list))
              .map((d) => d.id)
              .sort(),
          );
          // A partial match (third argument) and a partition's query read as before.
          const partial = (
            await ask("SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(@statuses, c.status, true) AND c.type = 'ticket'", [statusesOf])
          ).sort();
          expect(partial, what).toEqual(tickets.map((d) => d.id).sort());
          const inPartition = await ask(page, [{ name: "@limit", value: 5 }, statusesOf], { partition: { value: "1" } });
          expect(inPartition, what).toEqual(
            tickets
              .filter((d) => d.p === "1")
              .slice(0, 5)
              .map((d) => d.id),
          );
          // The list under an OR or a NOT says nothing of which documents can match: all are read.
          const either = (
            await ask("SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(@statuses, c.status) OR c.type = 'entry'", [statusesOf])
          ).sort();
          expect(either, what).toEqual(ids([...docs.values()].filter((d) => matches(d, list) || d.type === "entry")));
          const not = (
            await ask("SELECT VALUE c.id FROM c WHERE NOT ARRAY_CONTAINS(@statuses, c.status) AND c.type = 'ticket'", [statusesOf])
          ).sort();
          expect(not, what).toEqual(ids([...docs.values()].filter((d) => !matches(d, list) && d.type === "ticket")));
          // Two lists: the fewer documents of the two read; a parameter given twice: the last, as the engine takes it.
          const both = "SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(@types, c.type) AND ARRAY_CONTAINS(@statuses, c.status)";
          expect((await ask(both, [{ name: "@types", value: ["ticket"] }, statusesOf])).sort(), what).toEqual(ids(tickets));
          const twice = [{ name: "@statuses", value: ["pending"] }, statusesOf];
          expect((await ask("SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(@statuses, c.status)", twice)).sort(), what).toEqual(
            ids([...docs.values()].filter((d) => matches(d, list))),
          );
        }
        // Between rounds: statuses moved (to and from the rare ones), documents new and gone.
        for (let k = 0; k < 60; k++) {
          const d = docs.get(pick([...docs.keys()]))!;
          const action = pick(["move", "move", "new", "delete"]);
          if (action === "move") write({ ...d, status: pick([...statuses, "closed"]), type: pick(["ticket", "ticket", "entry"]) });
          else if (action === "new") write(fresh(`n${round}-${k}`));
          else remove(d);
        }
      }
    } finally {
      await replica.close();
    }
  });
});
