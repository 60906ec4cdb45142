import { describe, expect, it } from "vitest";
import { replicateQueries, type ReplicatedAccount } from "../../shared/local/query-replica.js";

/**
 * The query replica's own contract, on an account of its own (the embedded endpoint's tests
 * cover it behind the endpoint): it answers from what it was told, a query seeing every change
 * told before it (the changes of a turn travel together, after it or before a query), and one
 * that fails hands the queries back to the endpoint rather than failing them from then on.
 */
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
});
