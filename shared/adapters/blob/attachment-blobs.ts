import type { TokenCredential } from "@azure/identity";
import {
  BlobSASPermissions,
  BlobServiceClient,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type BlobSASSignatureValues,
  type ContainerClient,
  type StoragePipelineOptions,
  type UserDelegationKey,
} from "@azure/storage-blob";
import type { AttachmentBlobs, BlobFacts } from "../../attachments/ports.js";
import { azureCredential } from "../identity/azure-credential.js";
import { attachmentDisposition } from "./content-disposition.js";
import { isBlobMissing, storageErrorCode, translated } from "./errors.js";

/**
 * The attachments' blob store (shared/attachments/ports.ts) on Blob Storage, with
 * `@azure/storage-blob`. The app itself reads facts, first bytes, deletes and lists with its
 * own credential; clients get a SAS for one blob and move the bytes themselves.
 *
 * - In Azure (`azureAttachmentBlobs`): the managed identity, and a user-delegation SAS signed
 *   with a delegation key the identity asks for (Storage Blob Delegator) and the adapter
 *   keeps until shortly before it expires. The account has no usable key (shared keys off),
 *   and the SAS is HTTPS only.
 * - Off Azure (`sharedKeyAttachmentBlobs`): an account key, which signs the SAS: Azurite's
 *   development account, which the local stand-in hands over. Plain HTTP is allowed only
 *   for an account on this machine (Azurite on 127.0.0.1).
 */

/** An account reached with its key: the embedded Azurite (shared/local/embedded-blob.ts). */
export interface SharedKeyAccount {
  /** The account's blob endpoint, e.g. http://127.0.0.1:10000/devstoreaccount1 (Azurite's path-style URL). */
  accountUrl: string;
  accountName: string;
  accountKey: string;
}

export interface BlobStoreOptions {
  container: string;
  /** The clock the SAS start and delegation keys are told by (default: the system's). */
  now?: () => Date;
}

/** Signs the SAS of one blob: what the two ways of signing differ by. */
export type SasSigner = (values: Omit<BlobSASSignatureValues, "protocol" | "startsOn"> & { expiresOn: Date }) => Promise<string>;

/** Few, quick retries: an outage must reach the caller as a 503 within seconds, not hold a request for a minute. */
const PIPELINE: StoragePipelineOptions = {
  retryOptions: { maxTries: 3, tryTimeoutInMs: 10_000, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 },
};

/** A SAS starts this much before it is made, for a client's clock (or storage's) a little behind ours. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** A delegation key is asked for a day, and a new one once the SAS to sign would outlive the old one's last five minutes. */
const KEY_LIFETIME_MS = 24 * 60 * 60_000;
const KEY_RENEW_MARGIN_MS = 5 * 60_000;
/** Storage gives no delegation key for longer than 7 days from now. */
const KEY_MAX_LIFETIME_MS = 7 * 24 * 60 * 60_000 - CLOCK_SKEW_MS;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** In Azure: the managed identity (shared with the Cosmos DB and Service Bus adapters), a user-delegation SAS. */
export async function azureAttachmentBlobs(
  target: BlobStoreOptions & { accountUrl: string; managedIdentityClientId?: string | undefined },
): Promise<AttachmentBlobs> {
  if (new URL(target.accountUrl).protocol !== "https:") throw new Error(`ATTACHMENTS_ACCOUNT_URL must be https: ${target.accountUrl}`);
  const credential: TokenCredential = await azureCredential(target.managedIdentityClientId);
  const service = new BlobServiceClient(target.accountUrl, credential, PIPELINE);
  const now = target.now ?? (() => new Date());
  return new BlobAttachmentStore(service.getContainerClient(target.container), userDelegationSigner(service, now), now);
}

/** Off Azure: an account key (Azurite's development account), which signs the SAS too. */
export function sharedKeyAttachmentBlobs(account: SharedKeyAccount & BlobStoreOptions): AttachmentBlobs {
  const url = new URL(account.accountUrl);
  const local = url.protocol === "http:";
  if (local && !LOOPBACK.has(url.hostname)) throw new Error(`Plain HTTP is only for Azurite on this machine, not ${account.accountUrl}.`);
  const credential = new StorageSharedKeyCredential(account.accountName, account.accountKey);
  const service = new BlobServiceClient(account.accountUrl, credential, PIPELINE);
  const now = account.now ?? (() => new Date());
  return new BlobAttachmentStore(
    service.getContainerClient(account.container),
    sharedKeySigner(credential, local ? SASProtocol.HttpsAndHttp : SASProtocol.Https, now),
    now,
  );
}

function sharedKeySigner(credential: StorageSharedKeyCredential, protocol: SASProtocol, now: () => Date): SasSigner {
  return async (values) =>
    generateBlobSASQueryParameters({ ...values, protocol, startsOn: new Date(now().getTime() - CLOCK_SKEW_MS) }, credential).toString();
}

/**
 * A user-delegation SAS, HTTPS only: signed with a delegation key of the service client's
 * identity, kept and shared by every SAS it can sign (one key request a day, not one per
 * upload). A key request that fails is not kept: the next SAS asks again.
 */
export function userDelegationSigner(service: BlobServiceClient, now: () => Date): SasSigner {
  let cached: { expiresOn: number; key: Promise<UserDelegationKey> } | undefined;
  const keyFor = (expiresAt: Date): Promise<UserDelegationKey> => {
    const t = now().getTime();
    if (cached && cached.expiresOn - KEY_RENEW_MARGIN_MS >= Math.max(expiresAt.getTime(), t)) return cached.key;
    const expiresOn = Math.min(t + KEY_MAX_LIFETIME_MS, Math.max(t + KEY_LIFETIME_MS, expiresAt.getTime() + KEY_RENEW_MARGIN_MS));
    if (expiresOn < expiresAt.getTime())
      throw new Error(`A user-delegation SAS cannot last until ${expiresAt.toISOString()} (7 days at most).`);
    const entry = {
      expiresOn,
      key: translated("get a user delegation key", () => service.getUserDelegationKey(new Date(t - CLOCK_SKEW_MS), new Date(expiresOn))),
    };
    cached = entry;
    entry.key.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return entry.key;
  };
  return async (values) => {
    const key = await keyFor(values.expiresOn);
    const startsOn = new Date(Math.max(now().getTime() - CLOCK_SKEW_MS, key.signedStartsOn.getTime()));
    return generateBlobSASQueryParameters({ ...values, protocol: SASProtocol.Https, startsOn }, key, service.accountName).toString();
  };
}

/** What the port promises, over one container. */
export class BlobAttachmentStore implements AttachmentBlobs {
  constructor(
    private readonly container: ContainerClient,
    private readonly sign: SasSigner,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async uploadUrl(name: string, expiresAt: Date): Promise<string> {
    // Create and write: Put Blob, Put Block, Put Block List. No read, no delete, no other blob.
    return this.signedUrl(name, { permissions: BlobSASPermissions.parse("cw"), expiresOn: expiresAt });
  }

  async downloadUrl(name: string, expiresAt: Date, download: { fileName: string; contentType: string }): Promise<string> {
    return this.signedUrl(name, {
      permissions: BlobSASPermissions.parse("r"),
      expiresOn: expiresAt,
      contentDisposition: attachmentDisposition(download.fileName),
      contentType: download.contentType,
      // Its answer holds the file for whoever has the URL: no shared cache keeps it.
      cacheControl: "private, no-store",
    });
  }

  async facts(name: string): Promise<BlobFacts | null> {
    const blob = this.container.getBlobClient(name);
    return translated(`read the size and tags of ${name}`, async () => {
      try {
        const [properties, tags] = await Promise.all([blob.getProperties(), blob.getTags()]);
        return { size: properties.contentLength ?? 0, tags: tags.tags };
      } catch (e) {
        if (isBlobMissing(e)) return null;
        throw e;
      }
    });
  }

  async head(name: string, count: number): Promise<Uint8Array> {
    if (count <= 0) return new Uint8Array(0);
    const blob = this.container.getBlobClient(name);
    return translated(`read the first bytes of ${name}`, async () => {
      try {
        const response = await blob.download(0, count);
        return await firstBytes(response.readableStreamBody, count);
      } catch (e) {
        // A range of an empty blob is not satisfiable: it has no first bytes.
        if ((e as { statusCode?: number }).statusCode === 416 && storageErrorCode(e) === "InvalidRange") return new Uint8Array(0);
        throw e;
      }
    });
  }

  async copy(from: string, to: string): Promise<boolean> {
    // Copy Blob From URL, synchronous (up to 256 MiB: more than any attachment may be). The
    // source is named with a read SAS of a minute, the one way both Azure (whose identity
    // signs it with its delegation key) and Azurite take for it. Tags are not copied (the
    // default): the copy's scan is its own.
    const source = await this.signedUrl(from, {
      permissions: BlobSASPermissions.parse("r"),
      expiresOn: new Date(this.now().getTime() + 60_000),
    });
    const copy = this.container.getBlockBlobClient(to);
    return translated(`copy ${from} to ${to}`, async () => {
      try {
        await copy.syncCopyFromURL(source);
      } catch (e) {
        if (isBlobMissing(e) || isCopySourceMissing(e)) return false;
        throw e;
      }
      // The uploader's headers (a Content-Encoding, a Cache-Control) and metadata came with
      // the bytes: none of them is served. Set Blob Properties clears every header it is not given.
      await Promise.all([copy.setHTTPHeaders({}), copy.setMetadata({})]);
      return true;
    });
  }

  async delete(name: string): Promise<void> {
    await translated(`delete ${name}`, () => this.container.getBlobClient(name).deleteIfExists({ deleteSnapshots: "include" }));
  }

  async listOlderThan(prefix: string, before: Date): Promise<string[]> {
    return translated(`list ${prefix}`, async () => {
      const names: string[] = [];
      for await (const item of this.container.listBlobsFlat({ prefix })) {
        if (item.properties.lastModified.getTime() < before.getTime()) names.push(item.name);
      }
      return names;
    });
  }

  private async signedUrl(name: string, values: Omit<Parameters<SasSigner>[0], "containerName" | "blobName">): Promise<string> {
    const sas = await this.sign({ ...values, containerName: this.container.containerName, blobName: name });
    return `${this.container.getBlobClient(name).url}?${sas}`;
  }
}

/** Storage could not read the copy's source because it is not there. */
const isCopySourceMissing = (e: unknown): boolean =>
  (e as { statusCode?: number }).statusCode === 404 && storageErrorCode(e) === "CannotVerifyCopySource";

/** At most `count` bytes of the body: storage sends no more than the range asked for, but a stream may. */
async function firstBytes(body: NodeJS.ReadableStream | undefined, count: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    chunks.push(bytes);
    length += bytes.length;
    if (length >= count) break;
  }
  return new Uint8Array(Buffer.concat(chunks).subarray(0, count));
}
