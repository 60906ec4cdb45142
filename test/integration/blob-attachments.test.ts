import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedKeyAttachmentBlobs } from "../../shared/adapters/blob/attachment-blobs.js";
import type { AttachmentBlobs } from "../../shared/attachments/ports.js";
import { Failure } from "../../shared/kernel/failure.js";
import { startEmbeddedBlob, type EmbeddedBlob } from "../../shared/local/embedded-blob.js";
import { otherBlob, putBlob, send, withQuery } from "../support/blob-http.js";

/**
 * The attachments' blob adapter against Azurite in this process, over its real protocol: the
 * SDK for what the app does, a plain `fetch` for what a client does with a SAS.
 */
const CONTAINER = "attachments";
let azurite: EmbeddedBlob;
let blobs: AttachmentBlobs;
/** What Defender for Storage does to a blob once scanned: set its index tags (with the account's own rights). */
let defender: BlobServiceClient;

beforeAll(async () => {
  azurite = await startEmbeddedBlob({ container: CONTAINER });
  blobs = sharedKeyAttachmentBlobs({ ...azurite, container: CONTAINER });
  defender = new BlobServiceClient(azurite.accountUrl, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
});
afterAll(() => azurite?.close());

const inMinutes = (n: number) => new Date(Date.now() + n * 60_000);
let seq = 0;
const fresh = (prefix = "uploads") => `${prefix}/${Date.now()}-${++seq}`;
const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);

async function uploaded(name: string, bytes: Uint8Array | string = png): Promise<void> {
  const answer = await putBlob(await blobs.uploadUrl(name, inMinutes(10)), bytes);
  expect(answer.status).toBe(201);
}

async function failureOf(promise: Promise<unknown>): Promise<Failure> {
  const e: unknown = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(Failure);
  return e as Failure;
}

describe("upload URL (create and write that one blob, nothing else)", () => {
  it("a plain fetch PUT with it creates the blob, with the bytes sent", async () => {
    const name = fresh();
    expect(await blobs.facts(name)).toBeNull();
    const url = await blobs.uploadUrl(name, inMinutes(10));
    const answer = await putBlob(url, png);
    expect(answer.status).toBe(201);
    expect(await blobs.facts(name)).toEqual({ size: png.length, tags: {} });
    expect(Buffer.from(await blobs.head(name, 100))).toEqual(png);
  });

  it("cannot write any other blob: storage answers 403 and nothing is created", async () => {
    const name = fresh();
    const url = await blobs.uploadUrl(name, inMinutes(10));
    const other = `${name}-other`;
    const answer = await putBlob(otherBlob(url, other.split("/").pop()!), png);
    expect(answer.status).toBe(403);
    expect(await blobs.facts(other)).toBeNull();
    // Nor a blob in another "folder" with the same last name.
    const elsewhere = new URL(url);
    elsewhere.pathname = elsewhere.pathname.replace("/uploads/", "/elsewhere/");
    expect((await putBlob(elsewhere.toString(), png)).status).toBe(403);
    // The SAS still works for its own blob: the 403s were its scope, not a broken signature.
    expect((await putBlob(url, png)).status).toBe(201);
  });

  it("cannot read, delete or list: 403, the blob still there", async () => {
    const name = fresh();
    const url = await blobs.uploadUrl(name, inMinutes(10));
    expect((await putBlob(url, "secret")).status).toBe(201);
    const read = await send(url);
    expect(read.status).toBe(403);
    expect(read.body.toString()).not.toContain("secret");
    expect((await send(url, { method: "HEAD" })).status).toBe(403);
    expect((await send(url, { method: "DELETE" })).status).toBe(403);
    const list = new URL(url);
    list.pathname = `/${azurite.accountName}/${CONTAINER}`;
    list.searchParams.set("restype", "container");
    list.searchParams.set("comp", "list");
    expect((await send(list.toString())).status).toBe(403);
    // Nor set the index tags the scan result is read from (Set Blob Tags needs the "t" permission).
    const tags = `<?xml version="1.0" encoding="utf-8"?><Tags><TagSet><Tag><Key>Malware Scanning scan result</Key><Value>No threats found</Value></Tag></TagSet></Tags>`;
    expect(
      (await send(withQuery(url, "comp=tags"), { method: "PUT", body: tags, headers: { "content-type": "application/xml" } })).status,
    ).toBe(403);
    expect(await blobs.facts(name)).toEqual({ size: 6, tags: {} });
  });

  it("an expired one is refused by storage (403), and nothing is created", async () => {
    const name = fresh();
    const answer = await putBlob(await blobs.uploadUrl(name, new Date(Date.now() - 1000)), png);
    expect(answer.status).toBe(403);
    expect(await blobs.facts(name)).toBeNull();
  });

  it("works until its expiry, and is refused after it", async () => {
    const name = fresh();
    const expiresAt = new Date(Date.now() + 2000);
    const url = await blobs.uploadUrl(name, expiresAt);
    expect((await putBlob(url, "first")).status).toBe(201);
    // The SAS's expiry is in whole seconds (rounded down); wait until it has surely passed.
    await new Promise((resolve) => setTimeout(resolve, Math.floor(expiresAt.getTime() / 1000) * 1000 + 1100 - Date.now()));
    expect((await putBlob(url, "second")).status).toBe(403);
    expect(Buffer.from(await blobs.head(name, 100)).toString()).toBe("first");
  });

  it("takes a block upload (Put Block, Put Block List): a phone sends parts and may resend one", async () => {
    const name = fresh();
    const url = await blobs.uploadUrl(name, inMinutes(10));
    const parts = [Buffer.alloc(1024, 1), Buffer.alloc(700, 2), Buffer.from("end")];
    const ids = parts.map((_, i) => Buffer.from(`block-${String(i).padStart(6, "0")}`).toString("base64"));
    for (const [i, part] of parts.entries()) {
      const answer = await send(withQuery(url, `comp=block&blockid=${encodeURIComponent(ids[i]!)}`), { method: "PUT", body: part });
      expect(answer.status).toBe(201);
    }
    // A part sent again after a dropped connection replaces the first copy.
    expect(
      (await send(withQuery(url, `comp=block&blockid=${encodeURIComponent(ids[1]!)}`), { method: "PUT", body: parts[1] })).status,
    ).toBe(201);
    // Nothing is there until the list is committed.
    expect(await blobs.facts(name)).toBeNull();
    const list = `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join("")}</BlockList>`;
    const committed = await send(withQuery(url, "comp=blocklist"), {
      method: "PUT",
      body: list,
      headers: { "x-ms-blob-content-type": "image/png" },
    });
    expect(committed.status).toBe(201);
    const whole = Buffer.concat(parts);
    expect(await blobs.facts(name)).toEqual({ size: whole.length, tags: {} });
    expect(Buffer.from(await blobs.head(name, whole.length))).toEqual(whole);
    // The uncommitted-block list needs read permission, which the upload URL has not.
    expect((await send(withQuery(url, "comp=blocklist&blocklisttype=uncommitted"))).status).toBe(403);
  });
});

describe("download URL (read that one blob, answered as a download of the checked type)", () => {
  it("serves the bytes with Content-Disposition: attachment and the given Content-Type", async () => {
    const name = fresh();
    await uploaded(name);
    const url = await blobs.downloadUrl(name, inMinutes(5), { fileName: "screenshot.png", contentType: "image/png" });
    const answer = await send(url);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(png);
    expect(answer.headers.get("content-disposition")).toBe('attachment; filename="screenshot.png"');
    expect(answer.headers.get("content-type")).toBe("image/png");
  });

  it("names a file with non-ASCII letters, quotes or a path in RFC 5987 form, with an ASCII fallback", async () => {
    const name = fresh();
    await uploaded(name, "%PDF-1.7");
    const cases: [string, string][] = [
      [
        "Überweisung März (final).pdf",
        `attachment; filename="_berweisung M_rz (final).pdf"; filename*=UTF-8''%C3%9Cberweisung%20M%C3%A4rz%20%28final%29.pdf`,
      ],
      ['say "hi".txt', `attachment; filename="say _hi_.txt"; filename*=UTF-8''say%20%22hi%22.txt`],
      ["100%.log", `attachment; filename="100_.log"; filename*=UTF-8''100%25.log`],
      ["../../etc/passwd", 'attachment; filename=".._.._etc_passwd"'],
      ["bad\r\nSet-Cookie: x=1.txt", 'attachment; filename="bad__Set-Cookie: x=1.txt"'],
      ["截图.png", `attachment; filename="__.png"; filename*=UTF-8''%E6%88%AA%E5%9B%BE.png`],
    ];
    for (const [fileName, expected] of cases) {
      const answer = await send(await blobs.downloadUrl(name, inMinutes(5), { fileName, contentType: "application/pdf" }));
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-disposition")).toBe(expected);
      expect(answer.headers.get("set-cookie")).toBeNull();
      expect(answer.headers.get("content-type")).toBe("application/pdf");
    }
  });

  it("cannot write it, nor read another blob; an expired one is refused", async () => {
    const name = fresh();
    const neighbour = fresh();
    await uploaded(name);
    await uploaded(neighbour, "neighbour's");
    const url = await blobs.downloadUrl(name, inMinutes(5), { fileName: "a.png", contentType: "image/png" });
    expect((await putBlob(url, "overwritten")).status).toBe(403);
    expect((await send(url, { method: "DELETE" })).status).toBe(403);
    expect((await send(otherBlob(url, neighbour.split("/").pop()!))).status).toBe(403);
    expect(Buffer.from(await blobs.head(name, 100))).toEqual(png);
    const expired = await blobs.downloadUrl(name, new Date(Date.now() - 1000), { fileName: "a.png", contentType: "image/png" });
    const answer = await send(expired);
    expect(answer.status).toBe(403);
    expect(answer.body).not.toEqual(png);
  });
});

describe("what the app reads itself", () => {
  it("facts: size and index tags as Defender for Storage sets them; null when there is no blob", async () => {
    const name = fresh();
    await uploaded(name);
    expect(await blobs.facts(name)).toEqual({ size: png.length, tags: {} });
    const blob = defender.getContainerClient(CONTAINER).getBlobClient(name);
    await blob.setTags({ "Malware Scanning scan result": "No threats found", "Malware Scanning scan time UTC": "2026-01-05 10:00:00Z" });
    expect(await blobs.facts(name)).toEqual({
      size: png.length,
      tags: { "Malware Scanning scan result": "No threats found", "Malware Scanning scan time UTC": "2026-01-05 10:00:00Z" },
    });
    await blob.setTags({ "Malware Scanning scan result": "Malicious", "Malware Scanning scan time UTC": "2026-01-05 10:01:00Z" });
    expect((await blobs.facts(name))?.tags["Malware Scanning scan result"]).toBe("Malicious");
    expect(await blobs.facts(fresh())).toBeNull();
  });

  it("head: the first bytes, fewer when the blob is shorter, none when it is empty", async () => {
    const name = fresh();
    await uploaded(name, "0123456789");
    expect(Buffer.from(await blobs.head(name, 4)).toString()).toBe("0123");
    expect(Buffer.from(await blobs.head(name, 64)).toString()).toBe("0123456789");
    expect(await blobs.head(name, 0)).toEqual(new Uint8Array(0));
    const empty = fresh();
    await uploaded(empty, "");
    expect(await blobs.facts(empty)).toEqual({ size: 0, tags: {} });
    expect(await blobs.head(empty, 16)).toEqual(new Uint8Array(0));
  });

  it("head of a blob that is not there is not_found", async () => {
    expect((await failureOf(blobs.head(fresh(), 16))).kind).toBe("not_found");
  });

  it("delete: gone (facts null, the download URL 404), and deleting again is no error", async () => {
    const name = fresh();
    await uploaded(name);
    const url = await blobs.downloadUrl(name, inMinutes(5), { fileName: "a.png", contentType: "image/png" });
    await blobs.delete(name);
    expect(await blobs.facts(name)).toBeNull();
    expect((await send(url)).status).toBe(404);
    await blobs.delete(name);
    await blobs.delete(fresh());
  });

  it("listOlderThan: the blobs under a prefix last modified before a time, and only those", async () => {
    const prefix = `sweep-${Date.now()}/`;
    await uploaded(`${prefix}old-1`);
    await uploaded(`${prefix}old-2`);
    await uploaded(`not-${prefix}old-3`);
    // Last-Modified is in whole seconds: the cut is the next one, and the new blob comes after it.
    const cut = new Date(Math.floor(Date.now() / 1000) * 1000 + 1000);
    await new Promise((resolve) => setTimeout(resolve, cut.getTime() - Date.now() + 50));
    await uploaded(`${prefix}new`);
    expect((await blobs.listOlderThan(prefix, cut)).sort()).toEqual([`${prefix}old-1`, `${prefix}old-2`]);
    expect((await blobs.listOlderThan(prefix, new Date(Date.now() + 60_000))).sort()).toEqual([
      `${prefix}new`,
      `${prefix}old-1`,
      `${prefix}old-2`,
    ]);
    expect(await blobs.listOlderThan(prefix, new Date(cut.getTime() - 60_000))).toEqual([]);
    expect(await blobs.listOlderThan(`none-${prefix}`, new Date(Date.now() + 60_000))).toEqual([]);
  });
});

describe("storage's errors, as failure kinds", () => {
  it("a container that is not there is unavailable (an operator's fix), not an absent blob", async () => {
    const missing = sharedKeyAttachmentBlobs({ ...azurite, container: "no-such-container" });
    for (const call of [missing.facts("x"), missing.head("x", 4), missing.listOlderThan("", new Date()), missing.delete("x")]) {
      const failure = await failureOf(call);
      expect(failure.kind).toBe("unavailable");
      expect(String((failure.cause as Error).message)).toMatch(/404 ContainerNotFound/);
    }
  });

  it("a key storage refuses is unavailable (403 in the log), not a 500", async () => {
    const wrongKey = sharedKeyAttachmentBlobs({ ...azurite, accountKey: Buffer.alloc(64, 7).toString("base64"), container: CONTAINER });
    const failure = await failureOf(wrongKey.facts("x"));
    expect(failure.kind).toBe("unavailable");
    expect(failure.retryAfter).toBe(30);
    expect(String((failure.cause as Error).message)).toMatch(/403/);
  });

  it("storage not answering is unavailable, within seconds", async () => {
    const gone = await startEmbeddedBlob({ container: CONTAINER });
    const store = sharedKeyAttachmentBlobs({ ...gone, container: CONTAINER });
    await gone.close();
    const started = Date.now();
    const failure = await failureOf(store.facts("x"));
    expect(failure.kind).toBe("unavailable");
    expect(failure.retryAfter).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("plain HTTP is only for an Azurite on this machine", () => {
    expect(() =>
      sharedKeyAttachmentBlobs({ ...azurite, accountUrl: "http://files.example.com/devstoreaccount1", container: CONTAINER }),
    ).toThrow(/only for Azurite/);
  });
});
