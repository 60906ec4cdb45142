/** The Node.js and undici error codes of a connection that failed or dropped: an outage to wait out, never a bug. */
export const NETWORK_ERROR_CODES = [
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
] as const;
