import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

/**
 * The embedded Cosmos DB endpoint's query engine (@zeit/cosmosdb-query), as patched by
 * patches/@zeit+cosmosdb-query+0.7.2.patch (applied by `npm ci`'s postinstall): its rows are
 * built by pushes, not by copying the accumulator per document, which made every query
 * quadratic in the container's size. The results must be the same.
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
});
