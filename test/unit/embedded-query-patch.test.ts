import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

/**
 * The embedded Cosmos DB endpoint's query engine (@zeit/cosmosdb-query), as patched by
 * patches/@zeit+cosmosdb-query+0.7.2.patch (applied by `npm ci`'s postinstall): its rows are
 * built by pushes, not by copying the accumulator per document, which made every query
 * quadratic in the container's size; TOP over an ORDER BY keeps its first rows while it reads
 * rather than sorting every row; ORDER BY keeps the documents without the property, as Cosmos
 * DB now does. The results must be the same as a full sort's.
 */
const require = createRequire(import.meta.url);
const query = (require("@zeit/cosmosdb-query") as { default: (sql: string) => { code: string; exec: Exec } }).default;
type Exec = (docs: object[], options?: object) => { result: unknown[] };

describe("the embedded endpoint's query engine", () => {
  it("is patched: it builds rows by pushing, not by spreading the accumulator", () => {
    const { code } = query("SELECT c.id, t.n FROM c JOIN t IN c.tags WHERE c.type = 'ticket'");
    expect(code).toContain("$.push(");
    expect(code).not.toMatch(/\[\s*\.\.\.\$/);
  });

  it("answers as before: filters, joins, order, TOP, and undefined stripped from arrays", () => {
    const docs = [
      { id: "a", type: "ticket", rank: 2, tags: [{ n: "x" }, { n: "y" }], list: [1, undefined, 2], _rid: "1" },
      { id: "b", type: "entry", rank: 1, tags: [], _rid: "2" },
      { id: "c", type: "ticket", rank: 1, tags: [{ n: "z" }], _rid: "3" },
    ];
    expect(query("SELECT c.id FROM c WHERE c.type = 'ticket' ORDER BY c.rank ASC").exec(docs).result).toEqual([{ id: "c" }, { id: "a" }]);
    expect(query("SELECT c.id, t.n FROM c JOIN t IN c.tags").exec(docs).result).toEqual([
      { id: "a", n: "x" },
      { id: "a", n: "y" },
      { id: "c", n: "z" },
    ]);
    expect(query("SELECT TOP 1 VALUE c.id FROM c").exec(docs).result).toEqual(["a"]);
    expect(query("SELECT VALUE c.list FROM c WHERE c.id = 'a'").exec(docs).result).toEqual([[1, 2]]);
    // A JOIN over a large array: pushed element by element, not as 200,000 call arguments.
    const big = [{ id: "big", tags: Array.from({ length: 200_000 }, (_, i) => i), _rid: "4" }];
    expect(query("SELECT VALUE t FROM c JOIN t IN c.tags").exec(big).result).toHaveLength(200_000);
  });

  it("TOP over an ORDER BY selects the rows a full sort would, in its order, ties broken by _rid", () => {
    // Few distinct values, so that ties (and the _rid that breaks them) decide most places.
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const docs = Array.from({ length: 2_000 }, (_, i) => ({
      id: `d${i}`,
      rank: Math.floor(random() * 4),
      at: `2026-01-0${1 + Math.floor(random() * 3)}`,
      _rid: String(i).padStart(5, "0"),
    }));
    const compositeIndexes = [
      [
        { path: "/rank", order: "ascending" },
        { path: "/at", order: "descending" },
      ],
    ];
    const sql = "SELECT VALUE c.id FROM c ORDER BY c.rank ASC, c.at DESC";
    const all = query(sql).exec(docs, { compositeIndexes }).result;
    const top = query(`SELECT TOP @n VALUE c.id FROM c ORDER BY c.rank ASC, c.at DESC`);
    expect(top.code).toContain("sortTop(");
    for (const n of [0, 1, 25, 1_999, 2_000, 5_000])
      expect(top.exec(docs, { compositeIndexes, parameters: [{ name: "@n", value: n }] }).result).toEqual(all.slice(0, n));
  });

  it("ORDER BY keeps the documents without the property, first (Cosmos DB orders undefined lowest)", () => {
    const docs = [
      { id: "e2", seq: 2, _rid: "1" },
      { id: "ticket", _rid: "2" },
      { id: "e1", seq: 1, _rid: "3" },
    ];
    expect(query("SELECT VALUE c.id FROM c ORDER BY c.seq ASC").exec(docs).result).toEqual(["ticket", "e1", "e2"]);
    expect(query("SELECT TOP 2 VALUE c.id FROM c ORDER BY c.seq ASC").exec(docs).result).toEqual(["ticket", "e1"]);
    expect(query("SELECT VALUE c.id FROM c ORDER BY c.seq DESC").exec(docs).result).toEqual(["e2", "e1", "ticket"]);
  });
});
