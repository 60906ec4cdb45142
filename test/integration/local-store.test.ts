import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { JSONObject } from "@azure/cosmos";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapCosmos, connectCosmos, EMBEDDED_KEY } from "../../shared/adapters/cosmos/connect.js";
import { restoreSnapshot, takeSnapshot, type DatabaseSnapshot } from "../../shared/adapters/cosmos/snapshot.js";
import type { Principal } from "../../shared/kernel/principal.js";
import { temporaryPathOf } from "../../shared/local/atomic-file.js";
import { startEmbeddedCosmos } from "../../shared/local/embedded-cosmos.js";
import { keepStore } from "../../shared/local/kept-store.js";
import { readStoreFile, STORE_FILE_NAME, StoreFileError, writeStoreFile } from "../../shared/local/store-file.js";
import { startStore } from "../support/store.js";

/**
 * The kept local store against the embedded endpoint, over HTTP: what a save and a load
 * keep of the documents the app writes, time to live, and the file's atomic replacement.
 * (Across real restarts of `npm start`: test/e2e/local-store.test.ts.)
 */
const karen: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const qa: Principal = { id: "qa", name: "Quinn QA", email: "qa@example.com", role: "agent" };
const opts = { requestId: "req-1" };
const SYSTEM = ["_rid", "_self", "_etag", "_ts", "_attachments"];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "helpdesk-kept-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Every document of the tickets container, system fields left out, in a stable order. */
async function documentsOf(s: Awaited<ReturnType<typeof startStore>>) {
  const { resources } = await s.container.items.readAll<JSONObject>({ maxItemCount: -1 }).fetchAll();
  return resources
    .map((doc) => Object.fromEntries(Object.entries(doc).filter(([k]) => !SYSTEM.includes(k))))
    .sort((a, b) => JSON.stringify([a.ticketId, a.id]).localeCompare(JSON.stringify([b.ticketId, b.id])));
}

describe("the kept local store", () => {
  it("saved, then loaded into a new endpoint, holds every document the app wrote, and the file none of Cosmos DB's system fields", async () => {
    const file = join(dir, "round-trip.json");
    const s = await startStore();
    // What the app writes: a ticket and its timeline, an unsent outbox entry (the emergency's
    // page, which nothing dispatches here), a comment receipt (ttl), an agent (`_agents`).
    const { ticket } = await s.service.tickets.open(karen, { subject: "Mobile banking is down", description: "all of it" }, opts);
    await s.service.tickets.triage(qa, ticket.id, { priority: "emergency" }, opts);
    const idempotency = { key: "k-1", requestHash: "h-1" };
    await s.service.tickets.comment(qa, ticket.id, { body: "On it.", visibility: "internal" }, { ...opts, idempotency });
    await s.service.directory.remember(qa);
    const kept = await keepStore(s.embedded, { file, database: "helpdesk" });
    const saved = await kept.save();
    await kept.close();
    const written = await documentsOf(s);
    await s.close();

    const text = await readFile(file, "utf8");
    for (const field of SYSTEM) expect(text).not.toContain(`"${field}"`);
    expect(saved.documents).toBe(written.length);
    expect(saved.bytes).toBe(Buffer.byteLength(text));

    const embedded = await startEmbeddedCosmos();
    const loaded = await keepStore(embedded, { file, database: "helpdesk" });
    expect(loaded.loaded).toEqual({ documents: written.length, expired: 0 });
    const r = await startStore({ embedded });
    try {
      const restored = await documentsOf(r);
      // The same documents, ids and partition keys; a ttl is what was left of it (a second or so less).
      const ttlOf = (docs: Record<string, unknown>[]) => docs.map((d) => d.ttl as number | undefined);
      const withoutTtl = (docs: Record<string, unknown>[]) => docs.map(({ ttl: _t, ...d }) => d);
      expect(withoutTtl(restored)).toEqual(withoutTtl(written));
      ttlOf(restored).forEach((ttl, i) => {
        const was = ttlOf(written)[i];
        if (was === undefined) expect(ttl).toBeUndefined();
        else expect(ttl).toBeGreaterThan(was - 5);
      });
      expect(restored.map((d) => d.ticketId)).toContain("_agents");
      // The app on the restored store: the ticket, the page still to send, the agent, the comment's key.
      expect((await r.service.tickets.get(qa, ticket.id)).ticket).toEqual((await r.store.get(ticket.id))!.ticket);
      expect((await r.store.unsentOutbox({ limit: 10 })).filter((e) => e.queue === "escalations").map((e) => e.ticketId)).toEqual([
        ticket.id,
      ]);
      expect((await r.service.directory.list(qa)).map((a) => a.id)).toEqual([qa.id]);
      const replay = await r.service.tickets.comment(qa, ticket.id, { body: "On it.", visibility: "internal" }, { ...opts, idempotency });
      expect(replay.replayed).toBe(true);
    } finally {
      await loaded.close();
      await r.close();
    }
  });

  it("is kept by one host at a time: a second one on the same file is refused until the first closes; a dead owner's lock is taken over", async () => {
    const file = join(dir, "locked.json");
    const [a, b] = [await startEmbeddedCosmos(), await startEmbeddedCosmos()];
    try {
      const first = await keepStore(a, { file, database: "helpdesk" });
      await expect(keepStore(b, { file, database: "helpdesk" })).rejects.toThrow(/kept by another local host \(pid \d+\)/);
      await first.close();
      const second = await keepStore(b, { file, database: "helpdesk" });
      await second.close();
      // A lock left by a process that is gone (kill -9): the next host takes it.
      await writeFile(`${file}.lock`, "999999999");
      const third = await keepStore(b, { file, database: "helpdesk" });
      await third.close();
      expect(existsSync(`${file}.lock`)).toBe(false);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("counts a document's ttl from its last write across a save and a load: what expired is neither saved nor written back", async () => {
    const embedded = await startEmbeddedCosmos();
    const client = await connectCosmos({ endpoint: embedded.endpoint, key: EMBEDDED_KEY });
    try {
      await bootstrapCosmos(client, "helpdesk");
      const db = client.database("helpdesk");
      const tickets = db.container("tickets");
      const docs = [
        { id: "lives-on", ttl: 3600 },
        { id: "expires-between", ttl: 1050 },
        { id: "expired-at-save", ttl: 50 },
        { id: "never", ttl: -1 },
        { id: "plain" },
      ];
      for (const doc of docs) await tickets.items.create({ ...doc, ticketId: "t-1", type: "receipt" });
      const { resource } = await tickets.item("lives-on", "t-1").read<{ _ts: number }>();
      const written = resource!._ts * 1000;
      // Saved 100 s after the write, loaded 1000 s after the save.
      const snapshot = await takeSnapshot(db, new Date(written + 100_000));
      const saved = snapshot.containers.find((c) => c.id === "tickets")!.documents;
      expect(saved.map((d) => [d.id, d.ttl])).toEqual([
        ["lives-on", 3500],
        ["expires-between", 950],
        ["never", -1],
        ["plain", undefined],
      ]);
      const fresh = await startEmbeddedCosmos();
      const freshClient = await connectCosmos({ endpoint: fresh.endpoint, key: EMBEDDED_KEY });
      try {
        await bootstrapCosmos(freshClient, "helpdesk");
        const result = await restoreSnapshot(freshClient.database("helpdesk"), snapshot, new Date(written + 1_100_000));
        expect(result).toEqual({ documents: 3, expired: 1 });
        const { resources } = await freshClient.database("helpdesk").container("tickets").items.readAll<JSONObject>().fetchAll();
        expect(resources.map((d) => [d.id, d.ttl]).sort()).toEqual([
          ["lives-on", 2500],
          ["never", -1],
          ["plain", undefined],
        ]);
      } finally {
        freshClient.dispose();
        await fresh.close();
      }
    } finally {
      client.dispose();
      await embedded.close();
    }
  });

  it("a process killed at the rename leaves the previous file whole, and the next load reads it", async () => {
    const file = join(dir, STORE_FILE_NAME);
    const previous: DatabaseSnapshot = {
      takenAt: "2026-01-01T00:00:00.000Z",
      containers: [{ id: "tickets", partitionKey: "/ticketId", documents: [{ id: "old", ticketId: "t-1" }] }],
    };
    await writeStoreFile(file, previous);
    const before = await readFile(file, "utf8");
    // A child process saves a newer snapshot and dies (SIGKILL) the moment it renames: the
    // temporary file is written and flushed, the rename never happens.
    const dieAtRename = `
      import fs from "node:fs";
      import { syncBuiltinESMExports } from "node:module";
      fs.promises.rename = async () => { process.kill(process.pid, "SIGKILL"); await new Promise(() => {}); };
      syncBuiltinESMExports();
      const { writeStoreFile } = await import("./shared/local/store-file.ts");
      const documents = Array.from({ length: 1000 }, (_, i) => ({ id: "new-" + i, ticketId: "t-1" }));
      await writeStoreFile(${JSON.stringify(file)}, { takenAt: new Date().toISOString(), containers: [{ id: "tickets", partitionKey: "/ticketId", documents }] });
      console.log("renamed");
    `;
    const child = promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", dieAtRename]);
    await expect(child).rejects.toMatchObject({ signal: "SIGKILL", stdout: "" });
    expect(existsSync(temporaryPathOf(file))).toBe(true); // it did get as far as the rename
    expect(await readFile(file, "utf8")).toBe(before);
    expect(await readStoreFile(file)).toEqual(previous);
    // The next save replaces the leftover temporary file and the store file alike.
    await writeStoreFile(file, { ...previous, takenAt: "2026-01-02T00:00:00.000Z" });
    expect((await readStoreFile(file))?.takenAt).toBe("2026-01-02T00:00:00.000Z");
    expect(existsSync(temporaryPathOf(file))).toBe(false);
  });

  it("refuses a file that is not a whole store file, naming it, before the endpoint holds anything", async () => {
    const file = join(dir, "bad.json");
    const embedded = await startEmbeddedCosmos();
    try {
      for (const [content, why] of [
        ['{"format":"helpdesk-local-store","version":1,"containers":[', /not JSON/],
        ['{"format":"helpdesk-local-store","version":2,"takenAt":"2026-01-01T00:00:00.000Z","containers":[]}', /version: Invalid input/],
        [
          '{"format":"helpdesk-local-store","version":1,"takenAt":"2026-01-01T00:00:00.000Z","containers":[{"id":"tickets"}]}',
          /partitionKey/,
        ],
      ] as const) {
        await writeFile(file, content);
        const refused = keepStore(embedded, { file, database: "helpdesk" });
        await expect(refused).rejects.toBeInstanceOf(StoreFileError);
        await expect(refused).rejects.toThrow(new RegExp(`The local store file ${file} cannot be loaded \\(.*${why.source}`));
        expect(await readFile(file, "utf8")).toBe(content);
      }
      expect(embedded.writes()).toBe(0);
    } finally {
      await embedded.close();
    }
  });
});
