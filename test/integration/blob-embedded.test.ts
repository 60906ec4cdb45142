import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedKeyAttachmentBlobs } from "../../shared/adapters/blob/attachment-blobs.js";
import { AZURITE_ACCOUNT_NAME, setEmbeddedBlobCors, startEmbeddedBlob, type EmbeddedBlob } from "../../shared/local/embedded-blob.js";
import { localStandIns } from "../../shared/local/stand-ins.js";
import { putBlob, send } from "../support/blob-http.js";

/** The embedded Azurite itself: how fast it starts, where it keeps its data, CORS, the stand-in. */
const CONTAINER = "attachments";
const inMinutes = (n: number) => new Date(Date.now() + n * 60_000);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "blob-embedded-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("starting", () => {
  it("starts in process on 127.0.0.1 and a free port, quickly, without loading Azurite's telemetry", async () => {
    const started = performance.now();
    const blob = await startEmbeddedBlob({ container: CONTAINER });
    const elapsed = performance.now() - started;
    try {
      console.log(`embedded Azurite: first start (Azurite's modules loaded, container made) in ${elapsed.toFixed(0)} ms`);
      expect(blob.accountUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${AZURITE_ACCOUNT_NAME}$`));
      expect(blob.dir).toBeUndefined();
      // applicationinsights (~0.5 s to load, unused in process) was not loaded, and is not left stubbed either.
      const require = createRequire(import.meta.url);
      const insights = createRequire(require.resolve("azurite/dist/src/common/Telemetry.js")).resolve("applicationinsights");
      expect(require.cache[insights]).toBeUndefined();
      // A second one is only its start: milliseconds.
      const again = performance.now();
      const second = await startEmbeddedBlob({ container: CONTAINER });
      const secondMs = performance.now() - again;
      console.log(`embedded Azurite: another start in ${secondMs.toFixed(0)} ms`);
      expect(second.accountUrl).not.toBe(blob.accountUrl);
      await second.close();
      expect(secondMs).toBeLessThan(1_000);
    } finally {
      await blob.close();
    }
  });

  it("two in memory see only their own blobs; close frees the port and may be called twice", async () => {
    const a = await startEmbeddedBlob({ container: CONTAINER });
    const b = await startEmbeddedBlob({ container: CONTAINER });
    const inA = sharedKeyAttachmentBlobs({ ...a, container: CONTAINER });
    const inB = sharedKeyAttachmentBlobs({ ...b, container: CONTAINER });
    expect((await putBlob(await inA.uploadUrl("uploads/only-in-a", inMinutes(10)), "a")).status).toBe(201);
    expect(await inB.facts("uploads/only-in-a")).toBeNull();
    await a.close();
    await a.close();
    await b.close();
    await expect(fetch(`${a.accountUrl}/${CONTAINER}?restype=container`)).rejects.toThrow();
  });

  it("creates a container that is not there, and leaves one that is", async () => {
    const kept = join(dir, "containers");
    const first = await startEmbeddedBlob({ container: "files", dir: kept });
    expect(
      (await putBlob(await sharedKeyAttachmentBlobs({ ...first, container: "files" }).uploadUrl("x", inMinutes(10)), "x")).status,
    ).toBe(201);
    await first.close();
    const second = await startEmbeddedBlob({ container: "files", dir: kept });
    expect(await sharedKeyAttachmentBlobs({ ...second, container: "files" }).facts("x")).toEqual({ size: 1, tags: {} });
    await second.close();
  });
});

describe("kept under a directory", () => {
  it("keeps blobs, their bytes and their tags across a restart (the local host's .local/)", async () => {
    const kept = join(dir, "kept");
    const first = await startEmbeddedBlob({ container: CONTAINER, dir: kept });
    expect(first.dir).toBe(kept);
    const blobs = sharedKeyAttachmentBlobs({ ...first, container: CONTAINER });
    const bytes = Buffer.from("a log file\n".repeat(1000));
    expect((await putBlob(await blobs.uploadUrl("uploads/kept.log", inMinutes(10)), bytes)).status).toBe(201);
    const { BlobServiceClient, StorageSharedKeyCredential } = await import("@azure/storage-blob");
    const service = new BlobServiceClient(first.accountUrl, new StorageSharedKeyCredential(first.accountName, first.accountKey));
    await service
      .getContainerClient(CONTAINER)
      .getBlobClient("uploads/kept.log")
      .setTags({ "Malware Scanning scan result": "No threats found" });
    await first.close();
    expect((await readdir(kept)).sort()).toEqual(["__azurite_db_blob__.json", "__azurite_db_blob_extent__.json", "__blobstorage__"]);

    const second = await startEmbeddedBlob({ container: CONTAINER, dir: kept });
    try {
      const again = sharedKeyAttachmentBlobs({ ...second, container: CONTAINER });
      expect(await again.facts("uploads/kept.log")).toEqual({
        size: bytes.length,
        tags: { "Malware Scanning scan result": "No threats found" },
      });
      const download = await send(
        await again.downloadUrl("uploads/kept.log", inMinutes(5), { fileName: "kept.log", contentType: "text/plain" }),
      );
      expect(download.body).toEqual(bytes);
    } finally {
      await second.close();
    }
  });
});

describe("CORS (CORS_ALLOWED_ORIGINS)", () => {
  let blob: EmbeddedBlob;
  beforeAll(async () => {
    blob = await startEmbeddedBlob({ container: CONTAINER, corsOrigins: ["https://app.example.com", "http://localhost:5173"] });
  });
  afterAll(() => blob?.close());

  const preflight = (url: string, origin: string, method = "PUT") =>
    send(url, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": method,
        "access-control-request-headers": "x-ms-blob-type,content-type,x-ms-version",
      },
    });

  it("lets a browser on an allowed origin upload with the SAS (preflight, then the PUT)", async () => {
    const blobs = sharedKeyAttachmentBlobs({ ...blob, container: CONTAINER });
    const url = await blobs.uploadUrl("uploads/from-a-browser", inMinutes(10));
    const answer = await preflight(url, "https://app.example.com");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(answer.headers.get("access-control-allow-methods")).toMatch(/PUT/);
    const put = await putBlob(url, "bytes", undefined, { origin: "http://localhost:5173" });
    expect(put.status).toBe(201);
    expect(put.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    // Reading the download in a browser (fetch) is allowed too.
    expect((await preflight(url, "https://app.example.com", "GET")).status).toBe(200);
  });

  it("refuses another origin's preflight, and every origin once the rule is cleared", async () => {
    const url = `${blob.accountUrl}/${CONTAINER}/uploads/x`;
    expect((await preflight(url, "https://evil.example.com")).status).toBe(403);
    await setEmbeddedBlobCors(blob, []);
    expect((await preflight(url, "https://app.example.com")).status).toBe(403);
    await setEmbeddedBlobCors(blob, ["https://app.example.com"]);
    expect((await preflight(url, "https://app.example.com")).status).toBe(200);
  });
});

describe("the local stand-in", () => {
  it("blob() starts the embedded Azurite, hands over what the adapter needs, and keeps its data in its directory", async () => {
    const standIns = localStandIns(undefined, undefined, join(dir, "stand-in"));
    expect(standIns.embeddedBlob()).toBeUndefined();
    const blob = await standIns.blob({ container: CONTAINER });
    try {
      expect(standIns.embeddedBlob()?.accountUrl).toBe(blob.accountUrl);
      expect(blob.accountName).toBe(AZURITE_ACCOUNT_NAME);
      const blobs = sharedKeyAttachmentBlobs({ ...blob, container: CONTAINER });
      expect((await putBlob(await blobs.uploadUrl("uploads/s", inMinutes(10)), "s")).status).toBe(201);
      expect(await blobs.facts("uploads/s")).toEqual({ size: 1, tags: {} });
    } finally {
      await blob.close();
    }
    // A restart finds it again.
    const again = await localStandIns(undefined, undefined, join(dir, "stand-in")).blob({ container: CONTAINER });
    try {
      expect(await sharedKeyAttachmentBlobs({ ...again, container: CONTAINER }).facts("uploads/s")).toEqual({ size: 1, tags: {} });
    } finally {
      await again.close();
    }
  });
});
