import type { CorsRule } from "@azure/storage-blob";

/**
 * Blob Storage's CORS rule for the attachments' account, from CORS_ALLOWED_ORIGINS: browsers
 * on those origins PUT a file's bytes with the upload URL (one Put Blob, or Put Block and Put
 * Block List) and may GET it with the download URL. CORS is a property of the account's blob
 * service, not of a container: infra/ sets the same rule on the Azure account, the local host
 * on Azurite. No origins, no rule (nothing in a browser may call storage).
 */
export function attachmentsCorsRules(origins: readonly string[]): CorsRule[] {
  if (origins.length === 0) return [];
  return [
    {
      allowedOrigins: origins.join(","),
      allowedMethods: "GET,HEAD,PUT",
      // What the storage SDK (or a hand-written upload) sends: x-ms-blob-type, x-ms-version,
      // x-ms-blob-content-type, x-ms-client-request-id, ... (storage allows prefixed headers).
      allowedHeaders: "content-type,content-length,content-md5,x-ms-*",
      exposedHeaders: "content-type,content-length,content-disposition,etag,last-modified,x-ms-*",
      maxAgeInSeconds: 3600,
    },
  ];
}
