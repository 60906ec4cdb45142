import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { startEmbeddedCosmos } from "../../shared/local/embedded-cosmos.js";
import { withContainer } from "../support/embedded-container.js";

/**
 * The embedded endpoint runs in a worker thread of its own (shared/local/embedded-cosmos.ts),
 * and its query engine (@zeit/cosmosdb-query, with @babel/* and @turf/turf: most of its weight)
 * in its replica's worker: the thread that serves the host's requests loads neither, and a host
 * thread that is busy does not stop the endpoint answering. Its own file, so that no other test
 * loads the engine.
 */
const require = createRequire(import.meta.url);
const loaded = (module: string) => Object.keys(require.cache).some((path) => path.includes(module));
const engineLoaded = () => loaded("@zeit/cosmosdb-query");

describe("the embedded endpoint's threads", () => {
  it("answer while the host's thread is blocked: the endpoint is not on it", async () => {
    const embedded = await startEmbeddedCosmos();
    try {
      const answered = new Int32Array(new SharedArrayBuffer(4));
      // Another thread asks the endpoint while this one waits, blocked (no event loop turns).
      const asker = new Worker(
        `const { workerData } = require("node:worker_threads");
         fetch(workerData.url + "/", { headers: { "x-ms-date": new Date().toUTCString() } }).then((r) => {
           Atomics.store(workerData.answered, 0, r.status); Atomics.notify(workerData.answered, 0);
         });`,
        { eval: true, workerData: { url: embedded.endpoint, answered } },
      );
      expect(Atomics.wait(answered, 0, 0, 10_000)).toBe("ok");
      expect(answered[0]).toBe(200);
      await asker.terminate();
      expect(loaded("@vercel/cosmosdb-server")).toBe(false);
    } finally {
      await embedded.close();
    }
  });

  it("count each write before its answer reaches this thread (the kept store's last save relies on it), and close once however often asked", async () => {
    const embedded = await startEmbeddedCosmos();
    try {
      await withContainer(embedded, "counted", async (container) => {
        let uncounted = 0;
        for (let i = 0; i < 200; i++) {
          const before = embedded.writes();
          await container.items.create({ id: `w${i}`, ticketId: "t1" });
          if (embedded.writes() === before) uncounted++;
        }
        expect(uncounted).toBe(0);
      });
    } finally {
      await embedded.close();
    }
    await embedded.close();
  });

  it("answer creates, reads, queries and reads of its collections without this thread loading the query engine", async () => {
    const embedded = await startEmbeddedCosmos();
    try {
      await withContainer(embedded, "lazy", async (container, client) => {
        await container.items.create({ id: "a", ticketId: "t1", type: "entry" });
        expect((await container.item("a", "t1").read()).resource).toMatchObject({ id: "a" });
        const { resources } = await container.items.query("SELECT VALUE c.id FROM c", { partitionKey: "t1" }).fetchAll();
        expect(resources).toEqual(["a"]);
        expect((await client.databases.readAll().fetchAll()).resources.map((d) => d.id)).toContain("lazy");
        expect(engineLoaded()).toBe(false);
        // The probe sees the engine once this thread loads it.
        require("@zeit/cosmosdb-query");
        expect(engineLoaded()).toBe(true);
      });
    } finally {
      await embedded.close();
    }
  });
});
