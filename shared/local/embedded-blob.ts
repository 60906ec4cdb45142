import type { TokenCredential } from "@azure/identity";
import { mkdir, readFile } from "node:fs/promises";
import Module, { createRequire } from "node:module";
import type { Server } from "node:http";
import { Agent } from "node:https";
import type { AddressInfo } from "node:net";
import { rootCertificates } from "node:tls";
import { join } from "node:path";
import { BlobServiceClient, StorageSharedKeyCredential, newPipeline, type Pipeline } from "@azure/storage-blob";
import { attachmentsCorsRules } from "../adapters/blob/cors.js";
import type { SharedKeyAccount } from "../adapters/blob/attachment-blobs.js";

/**
 * Azurite's blob service in this process, for the local host and the tests: the attachments'
 * Blob Storage where ATTACHMENTS_ACCOUNT_URL is unset, spoken to over HTTP by the real
 * `@azure/storage-blob` client and by a client's plain `fetch` with a SAS. Its data lives in
 * memory, or under `dir` (the local host's `.local/`) across restarts.
 *
 * Azurite's development account is the emulator's well-known one (devstoreaccount1 and the
 * key Microsoft publishes for it): it signs the SAS here and nowhere else, since Azure has
 * no account key (shared keys off); shared/adapters/blob/ never sees it but through this.
 */
export const AZURITE_ACCOUNT_NAME = "devstoreaccount1";
const AZURITE_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface EmbeddedBlob extends SharedKeyAccount {
  container: string;
  /** Where its data is kept; undefined while it lives in memory only. */
  dir: string | undefined;
  /** With `https`: the certificate a client must trust (PEM). */
  ca: string | undefined;
  close(): Promise<void>;
}

export interface EmbeddedBlobOptions {
  /** Created if it is not there. */
  container: string;
  /** Keep the data in this directory (created if need be); without it, in memory only. */
  dir?: string | undefined;
  /** CORS_ALLOWED_ORIGINS: browsers on these may upload and download with a SAS. */
  corsOrigins?: readonly string[] | undefined;
  /** Default 0: a free one. */
  port?: number;
  /**
   * Serve HTTPS with this certificate (PEM files) and take OAuth tokens: what Azure's way of
   * signing, a user-delegation key, needs (Azurite gives one only over HTTPS, for a bearer
   * token it decodes but does not verify). The tests of the Azure path use it.
   */
  https?: { certFile: string; keyFile: string };
}

// The few parts of Azurite used here. Its package ships no types, and its `main` is the VS
// Code extension: the blob server is loaded from its files, with Node's own `require` (not a
// static import, so that no bundle takes Azurite in; it stays in node_modules for `npm start`).
interface AzuriteBlobServer {
  readonly httpServer: Server;
  start(): Promise<void>;
  close(): Promise<void>;
}
type BlobConfigurationClass = new (...args: unknown[]) => object;
interface Azurite {
  BlobServer: new (configuration: object) => AzuriteBlobServer;
  BlobConfiguration: BlobConfigurationClass;
  MemoryExtentChunkStore: new (sizeLimit?: number) => object;
  DEFAULT_EXTENT_MEMORY_LIMIT: number;
}

let azurite: Azurite | undefined;

/**
 * Azurite's telemetry module loads `applicationinsights` (and with it OpenTelemetry) as it is
 * required, which takes about 0.5 s, for a client Azurite only makes when its command line
 * turns telemetry on: never in process. So while Azurite's files load, `applicationinsights`
 * resolves to an empty module; it is taken out of the module cache again at once, so that
 * anything else that requires it later gets the real one.
 */
function loadAzurite(): Azurite {
  if (azurite) return azurite;
  const require = createRequire(import.meta.url);
  const telemetryFile = require.resolve("azurite/dist/src/common/Telemetry.js");
  const insightsFile = createRequire(telemetryFile).resolve("applicationinsights");
  const stubbed = !(insightsFile in require.cache);
  if (stubbed) {
    const empty = new Module(insightsFile);
    empty.filename = insightsFile;
    empty.loaded = true;
    require.cache[insightsFile] = empty;
  }
  try {
    const memory = require("azurite/dist/src/common/persistence/MemoryExtentStore.js") as {
      MemoryExtentChunkStore: Azurite["MemoryExtentChunkStore"];
      DEFAULT_EXTENT_MEMORY_LIMIT: number;
    };
    azurite = {
      BlobServer: (require("azurite/dist/src/blob/BlobServer.js") as { default: Azurite["BlobServer"] }).default,
      BlobConfiguration: (require("azurite/dist/src/blob/BlobConfiguration.js") as { default: BlobConfigurationClass }).default,
      MemoryExtentChunkStore: memory.MemoryExtentChunkStore,
      DEFAULT_EXTENT_MEMORY_LIMIT: memory.DEFAULT_EXTENT_MEMORY_LIMIT,
    };
    return azurite;
  } finally {
    if (stubbed) delete require.cache[insightsFile];
  }
}

export async function startEmbeddedBlob(options: EmbeddedBlobOptions): Promise<EmbeddedBlob> {
  const { BlobServer, BlobConfiguration, MemoryExtentChunkStore, DEFAULT_EXTENT_MEMORY_LIMIT } = loadAzurite();
  const dir = options.dir;
  if (dir) await mkdir(dir, { recursive: true });
  const ca = options.https ? await readFile(options.https.certFile, "utf8") : undefined;
  const configuration = new BlobConfiguration(
    "127.0.0.1",
    options.port ?? 0,
    5, // keep-alive timeout, seconds (Azurite's default)
    join(dir ?? "", "__azurite_db_blob__.json"), // its metadata (LokiJS, saved every 5 s and on close)
    join(dir ?? "", "__azurite_db_blob_extent__.json"),
    [{ locationId: "Default", locationPath: join(dir ?? "", "__blobstorage__"), maxConcurrency: 1 }], // the bytes
    false, // access log
    undefined,
    false, // debug log
    undefined,
    false, // loose: off, so that storage refuses what Azure would refuse
    true, // skipApiVersionCheck: the SDK speaks a newer API version than Azurite knows
    options.https?.certFile ?? "", // without one, plain HTTP, on 127.0.0.1 only
    options.https?.keyFile ?? "",
    "",
    options.https ? "basic" : undefined, // OAuth, else the key signs everything here
    false, // disableProductStyleUrl: Azurite's default (the account is told by the URL's path here)
    dir === undefined, // in memory
    // Each in-memory server its own bytes (Azurite's default store is shared by the process).
    dir === undefined ? new MemoryExtentChunkStore(DEFAULT_EXTENT_MEMORY_LIMIT) : undefined,
  );
  const server = new BlobServer(configuration);
  await server.start();
  const { port } = server.httpServer.address() as AddressInfo;
  const account = {
    accountUrl: `${ca ? "https" : "http"}://127.0.0.1:${port}/${AZURITE_ACCOUNT_NAME}`,
    accountName: AZURITE_ACCOUNT_NAME,
    accountKey: AZURITE_ACCOUNT_KEY,
  };
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const closed = new Promise<void>((resolve) => (server.httpServer.listening ? server.httpServer.once("close", resolve) : resolve()));
      await server.close(); // saves the metadata when kept; stops the listener without waiting for it
      await closed;
    })());
  try {
    await serviceClient(account, ca).getContainerClient(options.container).createIfNotExists();
    if (options.corsOrigins?.length) await setEmbeddedBlobCors({ ...account, ca }, options.corsOrigins);
  } catch (e) {
    await close();
    throw e;
  }
  return { ...account, container: options.container, dir, ca, close };
}

/**
 * CORS on the blob service (an account's property, not a container's), from
 * CORS_ALLOWED_ORIGINS: the rule infra/ sets on the Azure account. No origins clear it.
 */
export async function setEmbeddedBlobCors(blob: SharedKeyAccount & { ca?: string | undefined }, origins: readonly string[]): Promise<void> {
  await serviceClient(blob, blob.ca).setProperties({ cors: attachmentsCorsRules(origins) });
}

function serviceClient(account: SharedKeyAccount, ca: string | undefined): BlobServiceClient {
  const credential = new StorageSharedKeyCredential(account.accountName, account.accountKey);
  return new BlobServiceClient(account.accountUrl, trustingPipeline(credential, ca));
}

/**
 * A storage SDK pipeline (one try, no retries) that trusts `ca` besides the system's
 * certificates: the HTTPS Azurite's own. The SDK has no TLS option of its own, but sends
 * with the agent a request carries.
 */
export function trustingPipeline(credential: StorageSharedKeyCredential | TokenCredential, ca: string | undefined): Pipeline {
  const pipeline = newPipeline(credential, { retryOptions: { maxTries: 1 } });
  if (ca) {
    const agent = new Agent({ ca: [...rootCertificates, ca], keepAlive: true });
    pipeline.factories.push({
      create: (next) => ({
        sendRequest: (request) => {
          request.agent = agent;
          return next.sendRequest(request);
        },
      }),
    });
  }
  return pipeline;
}
