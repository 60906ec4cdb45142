import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MALICIOUS, NO_THREATS, SCAN_RESULT_TAG } from "../../shared/attachments/domain/attachment.js";
import { systemScheduler } from "../../shared/kernel/scheduler.js";
import { banner } from "../../shared/local/banner.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * Attachments over HTTP with the embedded Azurite: the API hands out a single-blob URL, and
 * the client sends the bytes there with a plain fetch, never through the API.
 */
let t: TestHost;
let karen: string;
let ken: string;
let jane: string;
beforeAll(async () => {
  t = await startTestHost();
  [karen, ken, jane] = await Promise.all([t.token(PEOPLE.karen), t.token(PEOPLE.ken), t.token(PEOPLE.jane)]);
});
afterAll(() => t?.close());

const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");
const open = async () =>
  (await t.call(karen, "POST", "/tickets", { body: { subject: "App error", description: "See screenshot." } })).body.id as string;
const upload = (token: string, id: string, body: Record<string, unknown>) => t.call(token, "POST", `/tickets/${id}/attachments`, { body });

describe("an upload", () => {
  it("is a URL for one blob, which a plain fetch PUT fills, and which writes no other blob", async () => {
    const id = await open();
    const granted = await upload(karen, id, { fileName: "error.png", contentType: "image/png", size: PNG.length });
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({ id: expect.any(String), uploadUrl: expect.stringMatching(/^http/), maxBytes: 25 * 1024 * 1024 });
    expect(Date.parse(granted.body.expiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);
    const put = await fetch(granted.body.uploadUrl, {
      method: "PUT",
      headers: { "x-ms-blob-type": "BlockBlob", "content-type": "image/png" },
      body: PNG,
    });
    expect(put.status).toBe(201);
    // The same signature on another blob's path: refused by storage.
    const other = new URL(granted.body.uploadUrl);
    other.pathname = other.pathname.replace(/[^/]+$/, "someone-else");
    expect((await fetch(other, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob" }, body: PNG })).status).toBe(403);
    // Nor does it read what it wrote.
    expect((await fetch(granted.body.uploadUrl)).status).toBe(403);
  });

  it("is the ticket's requester's or an agent's: a stranger gets 404; too large is 400 naming size", async () => {
    const id = await open();
    expect((await upload(ken, id, { fileName: "a.png", contentType: "image/png", size: 10 })).status).toBe(404);
    expect((await upload(jane, id, { fileName: "log.txt", contentType: "text/plain", size: 10 })).status).toBe(201);
    const big = await upload(karen, id, { fileName: "a.png", contentType: "image/png", size: 25 * 1024 * 1024 + 1 });
    expect(big.status).toBe(400);
    expect(big.body.errors.map((e: { path: string }) => e.path)).toEqual(["size"]);
    const bad = await upload(karen, id, { fileName: "../a.png", contentType: "image/png", size: 10 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(["fileName"]);
    expect((await upload(karen, "not-a-ticket", { fileName: "a.png", contentType: "image/png", size: 10 })).status).toBe(404);
  });

  it("is refused on a closed ticket (409)", async () => {
    const id = await open();
    expect((await t.call(karen, "POST", `/tickets/${id}/status`, { body: { status: "closed", resolution: "Never mind." } })).status).toBe(
      200,
    );
    expect((await upload(karen, id, { fileName: "a.png", contentType: "image/png", size: 10 })).status).toBe(409);
  });

  it("goes to the embedded Azurite locally, where start-up says that nothing scans uploads", () => {
    expect(banner(t.host, t.host.composition.config).find((l) => l.startsWith("  files:"))).toMatch(
      /embedded Azurite .* no malware scanner here: uploads are unscanned, and served$/,
    );
  });
});

/** The embedded Azurite's container, as storage itself sees it (the account key the stand-in holds). */
function containerOf(host: TestHost): ContainerClient {
  const blob = host.host.standIns.embeddedBlob();
  if (!blob) throw new Error("The embedded Azurite is not started.");
  const service = new BlobServiceClient(blob.accountUrl, new StorageSharedKeyCredential(blob.accountName, blob.accountKey));
  return service.getContainerClient(blob.container);
}

const blobNames = async (host: TestHost, prefix: string): Promise<string[]> => {
  const names: string[] = [];
  for await (const b of containerOf(host).listBlobsFlat({ prefix })) names.push(b.name);
  return names;
};

/** The upload URLs handed out, by upload id (to write again through one). */
const uploadUrls = new Map<string, string>();

/** Asks for an upload and PUTs the bytes to its URL, as a browser or a phone would: the upload's id. */
async function sent(
  host: TestHost,
  token: string,
  ticketId: string | null,
  fileName: string,
  bytes: Buffer,
  size = bytes.length,
): Promise<string> {
  // A null ticket: an upload for the caller's next opening (POST /api/attachments).
  const granted = await host.call(token, "POST", ticketId ? `/tickets/${ticketId}/attachments` : "/attachments", {
    body: { fileName, contentType: "image/png", size },
  });
  expect(granted.status).toBe(201);
  uploadUrls.set(granted.body.id, granted.body.uploadUrl);
  const put = await fetch(granted.body.uploadUrl, {
    method: "PUT",
    headers: { "x-ms-blob-type": "BlockBlob" },
    body: new Uint8Array(bytes),
  });
  expect(put.status).toBe(201);
  return granted.body.id as string;
}

const comment = (host: TestHost, token: string, ticketId: string, body: Record<string, unknown>) =>
  host.call(token, "POST", `/tickets/${ticketId}/comments`, { body });
const download = (host: TestHost, token: string, ticketId: string, attachmentId: string) =>
  host.call(token, "GET", `/tickets/${ticketId}/attachments/${attachmentId}`);
const timelineOf = async (host: TestHost, token: string, ticketId: string) =>
  (await host.call(token, "GET", `/tickets/${ticketId}/timeline?limit=100`)).body.items as {
    type: string;
    visibility: string;
    data: Record<string, unknown>;
  }[];

/** A Windows program: what a disguised executable starts with (MZ, then the PE header it points at). */
const EXE = Buffer.concat([Buffer.from("4d5a90000300000004000000ffff0000", "hex"), Buffer.alloc(48), Buffer.from("50450000", "hex")]);

describe("attaching and downloading", () => {
  it("a requester's PNG, uploaded with a plain fetch PUT and attached to a reply, is what the agent downloads", async () => {
    const id = await open();
    const uploadId = await sent(t, karen, id, "error.png", PNG);
    const reply = await comment(t, karen, id, { body: "Here is the error.", attachments: [uploadId] });
    expect(reply.status).toBe(201);
    const file = { id: uploadId, fileName: "error.png", size: PNG.length, contentType: "image/png" };
    expect(reply.body.data.attachments).toEqual([file]);
    // The timeline lists it, for both.
    for (const token of [karen, jane])
      expect((await timelineOf(t, token, id)).find((e) => e.type === "comment")?.data.attachments).toEqual([file]);
    // The upload is spent, its blob deleted; but its URL still writes for a few minutes, and
    // what it writes now is never what is served.
    expect(await blobNames(t, `uploads/${id}/${uploadId}`)).toEqual([]);
    expect(
      (await fetch(uploadUrls.get(uploadId)!, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob" }, body: new Uint8Array(EXE) }))
        .status,
    ).toBe(201);
    const answer = await download(t, jane, id, uploadId);
    expect(answer.status).toBe(302);
    expect(answer.headers.get("cache-control")).toBe("no-store");
    const got = await fetch(answer.headers.get("location")!);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("image/png");
    expect(got.headers.get("content-disposition")).toMatch(/^attachment; filename="error\.png"/);
    expect(Buffer.from(await got.arrayBuffer()).equals(PNG)).toBe(true);
    // The download URL reads, and only that: no write, no other blob.
    expect(
      (await fetch(answer.headers.get("location")!, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob" }, body: EXE })).status,
    ).toBe(403);
    // The upload is spent: naming it again is refused.
    const again = await comment(t, karen, id, { body: "Once more.", attachments: [uploadId] });
    expect(again.status).toBe(400);
    expect(again.body.errors.map((e: { path: string }) => e.path)).toEqual(["attachments[0]"]);
  });

  it("serves the bytes alone, under a name of their checked type: no header or metadata the uploader set", async () => {
    const id = await open();
    const granted = await upload(karen, id, { fileName: "invoice.hta", contentType: "text/plain", size: 40 });
    const script = '<script>new ActiveXObject("WScript.Shell")</script>';
    const put = await fetch(granted.body.uploadUrl, {
      method: "PUT",
      headers: {
        "x-ms-blob-type": "BlockBlob",
        "x-ms-blob-content-encoding": "gzip",
        "x-ms-blob-cache-control": "public, max-age=31536000",
        "x-ms-meta-evil": "1",
      },
      body: script,
    });
    expect(put.status).toBe(201);
    const note = await comment(t, karen, id, { body: "My invoice.", attachments: [granted.body.id] });
    expect(note.body.data.attachments).toEqual([
      { id: granted.body.id, fileName: "invoice.hta.txt", size: script.length, contentType: "text/plain" },
    ]);
    const where = await t.call(karen, "GET", `/tickets/${id}/attachments/${granted.body.id}`, { headers: { accept: "application/json" } });
    expect(where.status).toBe(200);
    expect(where.headers.get("cache-control")).toBe("no-store");
    expect(Date.parse(where.body.expiresAt) - Date.now()).toBeGreaterThan(4 * 60_000);
    const got = await fetch(where.body.url);
    expect(got.headers.get("content-disposition")).toMatch(/filename="invoice\.hta\.txt"/);
    expect(got.headers.get("content-type")).toBe("text/plain");
    expect(got.headers.get("content-encoding")).toBeNull();
    expect(got.headers.get("cache-control")).toBe("private, no-store");
    expect(got.headers.get("x-ms-meta-evil")).toBeNull();
    expect(await got.text()).toBe(script);
  });

  it("a keyed retry of a comment with files replays it, attaching nothing again", async () => {
    const id = await open();
    const uploadId = await sent(t, karen, id, "retry.png", PNG);
    const send = () =>
      t.call(karen, "POST", `/tickets/${id}/comments`, {
        body: { body: "Flaky line.", attachments: [uploadId] },
        headers: { "idempotency-key": `retry-${id}` },
      });
    const first = await send();
    const again = await send();
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    expect((await timelineOf(t, karen, id)).filter((e) => e.type === "comment")).toHaveLength(1);
    expect(await blobNames(t, `files/${id}/${uploadId}/`)).toHaveLength(1);
  });

  it("an internal note's file never reaches the requester by any route", async () => {
    const id = await open();
    const uploadId = await sent(t, jane, id, "server.log", Buffer.from("2026-12-01 12:00:00 ERROR disk full\n"));
    const note = await comment(t, jane, id, { body: "Logs attached.", visibility: "internal", attachments: [uploadId] });
    expect(note.status).toBe(201);
    expect(note.body.data.attachments[0]).toMatchObject({ contentType: "text/plain" });
    expect((await download(t, jane, id, uploadId)).status).toBe(302);
    // The requester: the same 404 as for a file that never was; nothing in the timeline or the ticket.
    const hidden = await download(t, karen, id, uploadId);
    const missing = await download(t, karen, id, "0123456789abcdef01234567");
    expect(hidden.status).toBe(404);
    expect({ ...hidden.body, instance: undefined }).toEqual({ ...missing.body, instance: undefined });
    expect(JSON.stringify(await timelineOf(t, karen, id))).not.toContain(uploadId);
    expect(JSON.stringify((await t.call(karen, "GET", `/tickets/${id}`)).body)).not.toContain(uploadId);
    expect(JSON.stringify((await t.call(karen, "GET", `/tickets?limit=100`)).body)).not.toContain(uploadId);
    // Nor can she attach it herself: it is not her upload.
    const taken = await comment(t, karen, id, { body: "Mine now?", attachments: [uploadId] });
    expect(taken.status).toBe(400);
    // A stranger learns nothing of the ticket.
    expect((await download(t, ken, id, uploadId)).status).toBe(404);
  });

  it("refuses a disguised executable, naming it, and deletes it", async () => {
    const id = await open();
    const good = await sent(t, karen, id, "fine.png", PNG);
    const bad = await sent(t, karen, id, "screenshot.png", EXE);
    const refused = await comment(t, karen, id, { body: "Two files.", attachments: [good, bad] });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ path: "attachments[1]", message: expect.stringMatching(/first bytes/) }]);
    // The executable is gone everywhere; the good one's upload stays for another try, and no copy is left.
    expect(await blobNames(t, `uploads/${id}/${bad}`)).toEqual([]);
    expect(await blobNames(t, `files/${id}/`)).toEqual([]);
    expect(await blobNames(t, `uploads/${id}/${good}`)).toHaveLength(1);
    expect((await timelineOf(t, karen, id)).filter((e) => e.type === "comment")).toEqual([]);
    expect((await comment(t, karen, id, { body: "Just the one.", attachments: [good] })).status).toBe(201);
  });

  it("refuses an upload never sent, and input that names no upload", async () => {
    const id = await open();
    const granted = await upload(karen, id, { fileName: "later.png", contentType: "image/png", size: 10 });
    const none = await comment(t, karen, id, { body: "Not sent yet.", attachments: [granted.body.id] });
    expect(none.status).toBe(400);
    expect(none.body.errors[0].message).toMatch(/Nothing was uploaded/);
    for (const attachments of [
      ["not-an-id"],
      [],
      Array.from({ length: 11 }, (_, i) => `${i}`.padStart(24, "0")),
      [granted.body.id, granted.body.id],
    ])
      expect((await comment(t, karen, id, { body: "Bad.", attachments })).status, JSON.stringify(attachments)).toBe(400);
    expect((await download(t, karen, id, "not-an-id")).status).toBe(404);
  });
});

describe("an opening's files", () => {
  it("are uploaded before the ticket exists, attached by the opening, and replayed by a keyed retry", async () => {
    const uploadId = await sent(t, karen, null, "crash.png", PNG);
    const open = () =>
      t.call(karen, "POST", "/tickets", {
        body: { subject: "Crash on start", description: "Screenshot attached.", attachments: [uploadId] },
        headers: { "idempotency-key": `opening-${uploadId}` },
      });
    const opened = await open();
    expect(opened.status).toBe(201);
    const id = opened.body.id as string;
    const file = { id: uploadId, fileName: "crash.png", size: PNG.length, contentType: "image/png" };
    expect((await timelineOf(t, karen, id)).find((e) => e.type === "opened")?.data.attachments).toEqual([file]);
    const again = await open();
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.id).toBe(id);
    for (const token of [karen, jane]) expect((await download(t, token, id, uploadId)).status).toBe(302);
    expect((await download(t, ken, id, uploadId)).status).toBe(404);
  });

  it("are the uploader's alone: another caller cannot open a ticket with them", async () => {
    const uploadId = await sent(t, karen, null, "mine.png", PNG);
    const taken = await t.call(ken, "POST", "/tickets", { body: { subject: "Yours?", description: "No.", attachments: [uploadId] } });
    expect(taken.status).toBe(400);
    expect(taken.body.errors.map((e: { path: string }) => e.path)).toEqual(["attachments[0]"]);
    // An opening refused for another reason leaves her upload as it was, for another try.
    const forbidden = await t.call(karen, "POST", "/tickets", {
      body: { subject: "Now", description: "Urgent.", priority: "emergency", attachments: [uploadId] },
    });
    expect(forbidden.status).toBe(403);
    expect(
      (await t.call(karen, "POST", "/tickets", { body: { subject: "Mine", description: "Yes.", attachments: [uploadId] } })).status,
    ).toBe(201);
  });
});

describe("a file over the limit", () => {
  let small: TestHost;
  beforeAll(async () => {
    small = await startTestHost({ ATTACHMENTS_MAX_BYTES: "1024" });
  });
  afterAll(() => small?.close());

  it("is refused when attached, whatever size the upload declared, and deleted", async () => {
    const token = await small.token(PEOPLE.karen);
    const id = (await small.call(token, "POST", "/tickets", { body: { subject: "Big", description: "A big file." } })).body.id as string;
    const big = Buffer.concat([PNG, Buffer.alloc(2048)]);
    const uploadId = await sent(small, token, id, "big.png", big, 1000);
    const refused = await comment(small, token, id, { body: "Big one.", attachments: [uploadId] });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ path: "attachments[0]", message: "The file is larger than 1024 bytes." }]);
    expect(await blobNames(small, "")).toEqual([]);
  });
});

describe("upload and download URLs", () => {
  let late: TestHost;
  beforeAll(async () => {
    // A host whose clock runs 11 minutes behind: every URL it signs has expired by storage's clock.
    late = await startTestHost({}, { scheduler: { ...systemScheduler, now: () => new Date(Date.now() - 11 * 60_000) } });
  });
  afterAll(() => late?.close());

  it("are refused by storage once expired", async () => {
    const token = await late.token(PEOPLE.karen);
    const id = (await late.call(token, "POST", "/tickets", { body: { subject: "Late", description: "Slow line." } })).body.id as string;
    const granted = await late.call(token, "POST", `/tickets/${id}/attachments`, {
      body: { fileName: "a.png", contentType: "image/png", size: PNG.length },
    });
    expect(Date.parse(new URL(granted.body.uploadUrl).searchParams.get("se")!)).toBeLessThan(Date.now());
    const put = await fetch(granted.body.uploadUrl, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob" }, body: PNG });
    expect(put.status).toBe(403);
    // Azurite's answer to a SAS past its expiry (Azure's is AuthenticationFailed).
    expect(await put.text()).toMatch(/<Code>AuthorizationFailure<\/Code>/);
    expect(await blobNames(late, "")).toEqual([]);
    // The bytes put there by storage's own key: attached, downloaded through a URL expired too.
    await containerOf(late).getBlockBlobClient(`uploads/${id}/${granted.body.id}`).uploadData(PNG);
    expect((await comment(late, token, id, { body: "Sent another way.", attachments: [granted.body.id] })).status).toBe(201);
    const answer = await download(late, token, id, granted.body.id);
    expect(answer.status).toBe(302);
    const got = await fetch(answer.headers.get("location")!);
    expect(got.status).toBe(403);
    expect(await got.text()).toMatch(/<Code>AuthorizationFailure<\/Code>/);
  });
});

describe("the scan gate (Defender for Storage, its verdict as the index tag it sets)", () => {
  let scanned: TestHost;
  let requester: string;
  let agent: string;
  beforeAll(async () => {
    scanned = await startTestHost({ ATTACHMENTS_MALWARE_SCANNING: "defender" });
    [requester, agent] = await Promise.all([scanned.token(PEOPLE.karen), scanned.token(PEOPLE.jane)]);
  });
  afterAll(() => scanned?.close());

  /** Tags the attached copy as Defender does once its scan ends. */
  async function verdict(ticketId: string, attachmentId: string, result: string): Promise<void> {
    const [name] = await blobNames(scanned, `files/${ticketId}/${attachmentId}/`);
    await containerOf(scanned)
      .getBlobClient(name!)
      .setTags({ [SCAN_RESULT_TAG]: result, "Malware Scanning scan time UTC": new Date().toISOString().replace("T", " ").slice(0, 19) });
  }

  async function attached(fileName: string): Promise<{ id: string; uploadId: string }> {
    const id = (await scanned.call(requester, "POST", "/tickets", { body: { subject: "Scan", description: "A file." } })).body.id as string;
    const uploadId = await sent(scanned, requester, id, fileName, PNG);
    expect((await comment(scanned, requester, id, { body: "File.", attachments: [uploadId] })).status).toBe(201);
    return { id, uploadId };
  }

  it("holds a file while it is scanned, then serves it clean", async () => {
    const { id, uploadId } = await attached("clean.png");
    const held = await download(scanned, requester, id, uploadId);
    expect(held.status).toBe(409);
    expect(held.headers.get("retry-after")).toBe("5");
    expect(held.body.type).toMatch(/attachment-scanning$/);
    await verdict(id, uploadId, NO_THREATS);
    expect((await download(scanned, requester, id, uploadId)).status).toBe(302);
  });

  it("never serves a malicious file, and says so once in an internal entry", async () => {
    const { id, uploadId } = await attached("evil.png");
    await verdict(id, uploadId, MALICIOUS);
    for (const token of [requester, agent, agent]) {
      const refused = await download(scanned, token, id, uploadId);
      expect(refused.status).toBe(410);
      expect(refused.body.type).toMatch(/attachment-malicious$/);
    }
    const said = (await timelineOf(scanned, agent, id)).filter((e) => e.type === "attachment_malicious");
    expect(said).toEqual([expect.objectContaining({ visibility: "internal", data: { attachmentId: uploadId, fileName: "evil.png" } })]);
    expect((await timelineOf(scanned, requester, id)).map((e) => e.type)).not.toContain("attachment_malicious");
  });

  it("never serves a file the scanner could not scan", async () => {
    const { id, uploadId } = await attached("locked.png");
    await verdict(id, uploadId, "Not scanned");
    const refused = await download(scanned, requester, id, uploadId);
    expect(refused.status).toBe(410);
    expect(refused.body.type).toMatch(/attachment-unscannable$/);
    expect(refused.headers.get("retry-after")).toBeNull();
  });

  it("says at start-up that uploads are scanned", () => {
    expect(banner(scanned.host, scanned.host.composition.config).find((l) => l.startsWith("  files:"))).toMatch(/Defender/);
  });
});

describe("uploads never attached", () => {
  let swept: TestHost;
  let ahead = 0;
  beforeAll(async () => {
    swept = await startTestHost({}, { scheduler: { ...systemScheduler, now: () => new Date(Date.now() + ahead) } });
  });
  afterAll(() => swept?.close());

  it("are deleted by the local host's sweep once a day old, and attached files are kept", async () => {
    const token = await swept.token(PEOPLE.karen);
    const id = (await swept.call(token, "POST", "/tickets", { body: { subject: "Sweep", description: "Two files." } })).body.id as string;
    const kept = await sent(swept, token, id, "kept.png", PNG);
    await sent(swept, token, id, "forgotten.png", PNG);
    expect((await comment(swept, token, id, { body: "One of them.", attachments: [kept] })).status).toBe(201);
    ahead = 23 * 3_600_000;
    expect(await swept.host.composition.sweepUploads()).toBe(0);
    ahead = 25 * 3_600_000;
    expect(await swept.host.composition.sweepUploads()).toBe(1);
    expect(await blobNames(swept, "uploads/")).toEqual([]);
    expect(await blobNames(swept, `files/${id}/${kept}/`)).toHaveLength(1);
  });
});
