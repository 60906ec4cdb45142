import { describe, expect, it } from "vitest";
import { attachmentCheck } from "../../shared/attachments/attach.js";
import type { Attachment, Upload } from "../../shared/attachments/domain/attachment.js";
import type { AttachmentBlobs, AttachmentRecords } from "../../shared/attachments/ports.js";
import { Failure } from "../../shared/kernel/failure.js";
import { outcomeOfFailure } from "../../shared/tickets/ports.js";
import type { Principal } from "../../shared/kernel/principal.js";

/**
 * Attaching (shared/attachments/attach.ts) against blobs in memory, where a test can act
 * between two of its calls: what was checked is what is served, and what it leaves behind.
 */
const PNG = Uint8Array.from(Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"));
const EXE = Uint8Array.from(Buffer.concat([Buffer.from("4d5a9000", "hex"), Buffer.alloc(60), Buffer.from("50450000", "hex")]));
const karen: Principal = { id: "karen", name: "Karen", email: null, role: "requester" };

function world(options: { afterCopy?: () => void; factsFail?: boolean } = {}) {
  const blobs = new Map<string, Uint8Array>();
  const deleted: string[] = [];
  const attached = new Map<string, Attachment>();
  const upload = (id: string): Upload => ({
    id,
    type: "upload",
    ticketId: "t1",
    fileName: `${id}.png`,
    declaredType: "image/png",
    declaredSize: 10,
    uploadedBy: { id: "karen", role: "requester" },
    createdAt: "2026-12-01T00:00:00.000Z",
    uploadExpiresAt: "2026-12-01T00:10:00.000Z",
  });
  // The uploads' records there are: every "u…" id, until claimed.
  const claimed = new Set<string>();
  const records: AttachmentRecords = {
    createUpload: async (u) => void claimed.delete(u.id),
    upload: async (_t, id) => (id.startsWith("u") && !claimed.has(id) ? upload(id) : null),
    claimUpload: async (_t, id) => {
      if (claimed.has(id)) return false;
      claimed.add(id);
      return true;
    },
    attachment: async (_t, id) => attached.get(id) ?? null,
  };
  const store: AttachmentBlobs = {
    uploadUrl: async () => "",
    downloadUrl: async () => "",
    facts: async (name) => {
      if (options.factsFail) throw new Failure("unavailable", "down");
      const b = blobs.get(name);
      return b ? { size: b.length, tags: {} } : null;
    },
    head: async (name, count) => (blobs.get(name) ?? new Uint8Array()).subarray(0, count),
    copy: async (from, to) => {
      const b = blobs.get(from);
      if (!b) return false;
      blobs.set(to, b);
      options.afterCopy?.();
      return true;
    },
    delete: async (name) => {
      deleted.push(name);
      blobs.delete(name);
    },
    listOlderThan: async () => [],
  };
  let n = 0;
  const check = attachmentCheck({
    records,
    blobs: store,
    maxBytes: 1000,
    newId: () => `c${++n}`,
    now: () => new Date("2026-12-01T00:05:00.000Z"),
    log: () => {},
    hash: (text) => text,
  });
  return { blobs, deleted, attached, claimed, check };
}

describe("attaching files", () => {
  it("checks the copy, so that bytes swapped in through the upload URL after it are never what is attached", async () => {
    const w = world({ afterCopy: () => w.blobs.set("uploads/t1/u1", EXE) });
    w.blobs.set("uploads/t1/u1", PNG);
    const prepared = await w.check.prepare(karen, "t1", ["u1"], "ticket");
    expect(prepared.refs).toEqual([{ id: "u1", fileName: "u1.png", size: PNG.length, contentType: "image/png" }]);
    expect(w.claimed).toEqual(new Set(["u1"]));
    const [record] = prepared.records(4, "public");
    expect(record).toMatchObject({ id: "attachment-u1", attachmentId: "u1", seq: 4, visibility: "public", blob: "files/t1/u1/c1" });
    expect(w.blobs.get("files/t1/u1/c1")).toEqual(PNG);
  });

  it("refuses bytes swapped in before the copy, deleting the copy and the upload", async () => {
    const w = world();
    w.blobs.set("uploads/t1/u1", EXE);
    await expect(w.check.prepare(karen, "t1", ["u1"], "ticket")).rejects.toMatchObject({
      kind: "invalid",
      errors: [{ path: "attachments[0]" }],
    });
    expect([...w.blobs.keys()]).toEqual([]);
  });

  it("passes a storage outage on, deleting every copy made and keeping the uploads", async () => {
    const w = world({ factsFail: true });
    w.blobs.set("uploads/t1/u1", PNG);
    w.blobs.set("uploads/t1/u2", PNG);
    await expect(w.check.prepare(karen, "t1", ["u1", "u2"], "ticket")).rejects.toMatchObject({ kind: "unavailable" });
    expect([...w.blobs.keys()].sort()).toEqual(["uploads/t1/u1", "uploads/t1/u2"]);
    expect(w.claimed).toEqual(new Set());
  });

  it("refuses an upload that is not there or not the caller's", async () => {
    const w = world();
    await expect(w.check.prepare(karen, "t1", ["x1"], "ticket")).rejects.toMatchObject({ errors: [{ path: "attachments[0]" }] });
    w.blobs.set("uploads/t1/u1", PNG);
    await expect(w.check.prepare({ ...karen, id: "ken" }, "t1", ["u1"], "ticket")).rejects.toMatchObject({
      errors: [{ path: "attachments[0]" }],
    });
  });

  it("claims each upload for one request: a second gets 400, and an unwritten change gives them back", async () => {
    const w = world();
    w.blobs.set("uploads/t1/u1", PNG);
    // Two at once: both read the upload, one claim wins.
    const [a, b] = await Promise.allSettled([
      w.check.prepare(karen, "t1", ["u1"], "ticket"),
      w.check.prepare(karen, "t1", ["u1"], "ticket"),
    ]);
    expect(b).toMatchObject({ status: "rejected", reason: { kind: "in_flight" } });
    expect(await w.check.prepare(karen, "t1", ["u1"], "ticket").catch((e: Failure) => e.errors[0]?.message)).toMatch(/No such upload/);
    const first = (a as PromiseFulfilledResult<Awaited<ReturnType<typeof w.check.prepare>>>).value;
    await first.settle("not_written");
    expect([...w.blobs.keys()]).toEqual(["uploads/t1/u1"]);
    expect(w.claimed).toEqual(new Set());
    const second = await w.check.prepare(karen, "t1", ["u1"], "ticket");
    await second.settle("written");
    expect([...w.blobs.keys()]).toEqual(["files/t1/u1/c2"]);
    expect(w.claimed).toEqual(new Set(["u1"]));
  });

  it("after a write of unknown outcome (a store that timed out may apply it yet) undoes nothing: the copies and the claims stay", async () => {
    const w = world();
    w.blobs.set("uploads/t1/u1", PNG);
    const prepared = await w.check.prepare(karen, "t1", ["u1"], "ticket");
    await prepared.settle("unknown");
    expect([...w.blobs.keys()].sort()).toEqual(["files/t1/u1/c1", "uploads/t1/u1"]);
    expect(w.claimed).toEqual(new Set(["u1"]));
  });
});

describe("a write's outcome, for the files it named", () => {
  it("is surely not written on a refusal or a lost race, and on an outage that says so; not known on any other outage or error", () => {
    for (const kind of ["invalid", "forbidden", "not_found", "conflict", "precondition_failed", "exists", "stale"] as const)
      expect(outcomeOfFailure(new Failure(kind, "no")), kind).toBe("not_written");
    expect(outcomeOfFailure(new Failure("unavailable", "changing too fast", { nothingWritten: true }))).toBe("not_written");
    expect(outcomeOfFailure(new Failure("unavailable", "timed out"))).toBe("unknown");
    expect(outcomeOfFailure(new Error("bug"))).toBe("unknown");
  });
});
