import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobAttachmentStore, azureAttachmentBlobs, userDelegationSigner } from "../../shared/adapters/blob/attachment-blobs.js";
import { Failure } from "../../shared/kernel/failure.js";
import { startEmbeddedBlob, trustingPipeline, type EmbeddedBlob } from "../../shared/local/embedded-blob.js";
import { fakeEntraCredential, otherBlob, putBlob, send } from "../support/blob-http.js";
import { selfSignedCert } from "../support/self-signed-cert.js";

/**
 * The Azure way of signing, against Azurite over HTTPS in its OAuth mode: the app's identity
 * (a token, here a fake Azurite decodes without verifying) asks for a user-delegation key and
 * signs each SAS with it; no account key is involved. Azurite checks such a SAS as storage
 * does: the key's signature, its scope, its permissions, HTTPS.
 */
const CONTAINER = "attachments";
let dir: string;
let azurite: EmbeddedBlob;
let ca: string;
let clock = () => new Date();
const credential = fakeEntraCredential(() => new Date());
let keyRequests = 0;
let blobs: BlobAttachmentStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "blob-udk-"));
  const { cert, key } = selfSignedCert();
  ca = cert;
  await writeFile(join(dir, "cert.pem"), cert);
  await writeFile(join(dir, "key.pem"), key);
  azurite = await startEmbeddedBlob({ container: CONTAINER, https: { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") } });
  const pipeline = trustingPipeline(credential, ca);
  // Counts the delegation key requests (POST ?restype=service&comp=userdelegationkey).
  pipeline.factories.push({
    create: (next) => ({
      sendRequest: (request) => {
        if (request.url.includes("comp=userdelegationkey")) keyRequests++;
        return next.sendRequest(request);
      },
    }),
  });
  const service = new BlobServiceClient(azurite.accountUrl, pipeline);
  blobs = new BlobAttachmentStore(
    service.getContainerClient(CONTAINER),
    userDelegationSigner(service, () => clock()),
  );
});
afterAll(async () => {
  await azurite?.close();
  await rm(dir, { recursive: true, force: true });
});

const inMinutes = (n: number) => new Date(Date.now() + n * 60_000);
let seq = 0;
const fresh = () => `uploads/${Date.now()}-${++seq}`;

describe("user-delegation SAS (Azure's: no account key)", () => {
  it("is signed with a delegation key (skoid, sktid, ...), HTTPS only, and creates its one blob", async () => {
    const name = fresh();
    const url = await blobs.uploadUrl(name, inMinutes(10));
    const query = new URL(url).searchParams;
    expect(query.get("skoid")).toBe("00000000-0000-0000-0000-0000000000a1");
    expect(query.get("sktid")).toBe("72f988bf-86f1-41af-91ab-2d7cd011db47");
    expect(query.get("spr")).toBe("https");
    expect(query.get("sp")).toBe("cw");
    expect(query.get("sr")).toBe("b");
    expect(new URL(url).protocol).toBe("https:");
    expect((await putBlob(url, "hello", ca)).status).toBe(201);
    expect(await blobs.facts(name)).toEqual({ size: 5, tags: {} });
  });

  it("is refused by storage for another blob, for reading, and once expired", async () => {
    const name = fresh();
    const url = await blobs.uploadUrl(name, inMinutes(10));
    expect((await putBlob(otherBlob(url, "another"), "x", ca)).status).toBe(403);
    expect((await putBlob(url, "mine", ca)).status).toBe(201);
    expect((await send(url, { ca })).status).toBe(403);
    expect((await putBlob(await blobs.uploadUrl(fresh(), new Date(Date.now() - 1000)), "late", ca)).status).toBe(403);
    // A signature made with another key is no signature: one character of it changed.
    const forged = new URL(url);
    const sig = forged.searchParams.get("sig")!;
    forged.searchParams.set("sig", (sig[0] === "A" ? "B" : "A") + sig.slice(1));
    expect((await putBlob(forged.toString(), "forged", ca)).status).toBe(403);
  });

  it("download: the bytes, as an attachment of the given type", async () => {
    const name = fresh();
    expect((await putBlob(await blobs.uploadUrl(name, inMinutes(10)), "%PDF-1.7 body", ca)).status).toBe(201);
    const answer = await send(
      await blobs.downloadUrl(name, inMinutes(5), { fileName: "Rechnung März.pdf", contentType: "application/pdf" }),
      { ca },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe("%PDF-1.7 body");
    expect(answer.headers.get("content-disposition")).toBe(
      `attachment; filename="Rechnung M_rz.pdf"; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf`,
    );
    expect(answer.headers.get("content-type")).toBe("application/pdf");
  });

  it("one delegation key serves every SAS until shortly before it expires; then a new one is asked for", async () => {
    const start = Date.now();
    clock = () => new Date(start);
    const before = keyRequests;
    await blobs.uploadUrl(fresh(), new Date(start + 10 * 60_000));
    const first = keyRequests;
    expect(first - before).toBeLessThanOrEqual(1); // the earlier tests may have asked already
    for (let i = 0; i < 5; i++)
      await blobs.downloadUrl(fresh(), new Date(start + 5 * 60_000), { fileName: "a", contentType: "text/plain" });
    expect(keyRequests).toBe(first);
    // 23 h 40 min on, a 10-minute SAS still ends before the key's last five minutes.
    clock = () => new Date(start + (23 * 60 + 40) * 60_000);
    await blobs.uploadUrl(fresh(), new Date(clock().getTime() + 10 * 60_000));
    expect(keyRequests).toBe(first);
    // 23 h 50 min on, it would not: a new key.
    clock = () => new Date(start + (23 * 60 + 50) * 60_000);
    await blobs.uploadUrl(fresh(), new Date(clock().getTime() + 10 * 60_000));
    expect(keyRequests).toBe(first + 1);
    // A SAS longer than a delegation key may last is a bug, said at once.
    await expect(blobs.uploadUrl(fresh(), new Date(clock().getTime() + 8 * 24 * 60 * 60_000))).rejects.toThrow(/7 days/);
    clock = () => new Date();
  });

  it("no token from the identity: unavailable, and the failed key is not kept", async () => {
    // A fresh signer, so that no key is cached yet.
    const service = new BlobServiceClient(azurite.accountUrl, trustingPipeline(credential, ca));
    const store = new BlobAttachmentStore(
      service.getContainerClient(CONTAINER),
      userDelegationSigner(service, () => new Date()),
    );
    credential.fail = 1;
    const e: unknown = await store.uploadUrl(fresh(), inMinutes(10)).catch((error: unknown) => error);
    expect(e).toBeInstanceOf(Failure);
    expect((e as Failure).kind).toBe("unavailable");
    const name = fresh();
    expect((await putBlob(await store.uploadUrl(name, inMinutes(10)), "retried", ca)).status).toBe(201);
  });

  it("an identity storage refuses the key to (no Storage Blob Delegator role) is unavailable", async () => {
    // Azurite in OAuth mode still takes the key; a shared-key client asking for a delegation key is refused (403).
    const service = new BlobServiceClient(
      azurite.accountUrl,
      trustingPipeline(new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey), ca),
    );
    const store = new BlobAttachmentStore(
      service.getContainerClient(CONTAINER),
      userDelegationSigner(service, () => new Date()),
    );
    const e: unknown = await store.uploadUrl(fresh(), inMinutes(10)).catch((error: unknown) => error);
    expect((e as Failure).kind).toBe("unavailable");
    expect(((e as Failure).cause as Error).message).toMatch(/403/);
  });

  it("the Azure adapter takes only an https account URL", async () => {
    await expect(azureAttachmentBlobs({ accountUrl: "http://127.0.0.1:1/devstoreaccount1", container: CONTAINER })).rejects.toThrow(
      /https/,
    );
  });
});
