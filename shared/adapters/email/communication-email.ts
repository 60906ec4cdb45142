import { createHash } from "node:crypto";
import type { EmailClient, EmailSendResult } from "@azure/communication-email";
import type { EmailOutcome, EmailSender, OutgoingEmail } from "../../notifications/ports.js";
import { azureCredential } from "../identity/azure-credential.js";
import { firstLine, isNetworkFailure, NETWORK_ERROR_CODES } from "../network-errors.js";

/**
 * The requester emails through Azure Communication Services Email (@azure/communication-email).
 *
 * What the REST API does, as read in @azure/communication-email 1.1.0 (its generated client:
 * api-version 2025-09-01) with @azure/core-lro 2.7 and @azure/communication-common 2.4:
 *
 * - A send is `POST {endpoint}/emails:send?api-version=...` with `{ senderAddress, recipients:
 *   { to: [{ address, displayName }] }, content: { subject, plainText } }` and an optional
 *   `Operation-Id` header (a UUID: the SDK refuses anything else before sending). The service
 *   answers 202 with `Operation-Location` (the operation's URL), `Retry-After` and `{ id, status }`.
 * - The SDK then polls `GET {endpoint}/emails/operations/{id}` (the Operation-Location URL) until
 *   `status` is Succeeded, Failed or Canceled; a Failed one carries `error: { code, message }`.
 *   `beginSend` polls once at once and ignores the 202's Retry-After; later polls wait
 *   `updateIntervalInMs`, or a poll answer's Retry-After when it gives one.
 * - An error answer is `{ error: { code, message } }`, with the code also in `x-ms-error-code`;
 *   the SDK throws it as a RestError (statusCode, code, message from that body).
 * - A final Failed or Canceled makes pollUntilDone throw a plain Error whose words hold the code;
 *   so the last poll answer is kept (onResponse) and its `error` read instead.
 * - With a connection string (endpoint=...;accesskey=...) each request is signed with the access
 *   key (HMAC-SHA256), which works over plain HTTP when allowInsecureConnection is set; with a
 *   TokenCredential the SDK asks for https://communication.azure.com//.default and refuses any
 *   URL that is not HTTPS. The SDK's error for a malformed connection string quotes it whole.
 * - The SDK's retry policy retries 408, 5xx (not 501, 505) and network errors with exponential
 *   backoff, and 429 and 503 with a Retry-After after that long, however long: hence few retries
 *   here and a deadline on the whole send; the notifications queue retries the rest.
 *
 * Operation-Id is a name-based UUID (version 5: SHA-1 of a namespace of our own and the email's
 * key, RFC 9562 section 5.5), so a redelivered email asks for the same operation again. What the
 * service answers a send that repeats an Operation-Id is not in the SDK; whatever 4xx it is
 * (say 409), it is thrown, never read as refused: only a refusal of the recipient is (below).
 */
export interface CommunicationEmailOptions {
  endpoint: string;
  sender: string;
  /** Off Azure only (a test server, or a resource reached by its access key): endpoint=...;accesskey=... */
  connectionString?: string;
  managedIdentityClientId?: string;
  /** Between polls of the operation (default 1 s; a Retry-After from the service wins). */
  pollIntervalMs?: number;
  /** One send, its retries and its polls, at most (default 30 s): a hung service does not hold the function. */
  deadlineMs?: number;
  /** The SDK's retries of one request (default 2), from retryDelayMs (default 1 s), doubling. */
  maxRetries?: number;
  retryDelayMs?: number;
}

const DEFAULT_DEADLINE_MS = 30_000;

/** The namespace of the Operation-Ids: a random UUID drawn once for this app, never to change (the ids of redeliveries depend on it). */
const OPERATION_ID_NAMESPACE = "5b0c2a4e-8f7d-4c1e-9a36-2d8e0f5b7c91";

/** The Operation-Id of an email: the same for the same key, on every redelivery, on every instance. */
export function operationIdOf(key: string): string {
  const namespace = Buffer.from(OPERATION_ID_NAMESPACE.replace(/-/g, ""), "hex");
  const bytes = createHash("sha1").update(namespace).update(key, "utf8").digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // the RFC's variant (10xx)
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A send refused for good: a 400 whose code or words name the recipients (InvalidRecipients).
 * Any other 4xx is thrown, retried and at last dead-lettered for a person to see: a sender not
 * on a linked domain, a wrong endpoint or a 409 is this deployment's fault, and would otherwise
 * mark every email refused without anyone being alerted.
 */
const refusesRecipient = (status: number, code: string | undefined, message: string | undefined): boolean =>
  status === 400 && /recipient/i.test(`${code ?? ""} ${message ?? ""}`);
const NETWORK_CODES = new Set<string>([...NETWORK_ERROR_CODES, "REQUEST_SEND_ERROR"]);

interface SdkError {
  name?: string;
  code?: string;
  statusCode?: number;
  message?: string;
  request?: { method?: string };
  response?: { headers?: { get(name: string): string | undefined } };
}

export function communicationEmailSender(options: CommunicationEmailOptions): EmailSender {
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const secrets = [options.connectionString, parseConnectionString(options.connectionString)?.accessKey].filter((s): s is string =>
    Boolean(s),
  );
  /** Nothing of the connection string leaves in an error's words, whatever the SDK put there. */
  const scrub = (text: string) => secrets.reduce((t, secret) => t.split(secret).join("***"), text);
  let client: Promise<EmailClient> | undefined;

  /** One client per process, made on the first send (the SDK is loaded then, not at a cold start that sends nothing). */
  function connect(): Promise<EmailClient> {
    client ??= buildClient(options).catch((e: unknown) => {
      client = undefined;
      throw e;
    });
    return client;
  }

  return {
    describe: `communication services (${new URL(options.endpoint).host})`,
    async send(email: OutgoingEmail): Promise<EmailOutcome> {
      const operationId = operationIdOf(email.key);
      const abortSignal = AbortSignal.timeout(deadlineMs);
      let last: Partial<EmailSendResult> | undefined;
      try {
        const client = await connect();
        const message = {
          senderAddress: options.sender,
          recipients: { to: [{ address: email.to.email, displayName: email.to.name }] },
          content: { subject: email.subject, plainText: email.text },
        };
        const poller = await client.beginSend(message, {
          operationId,
          updateIntervalInMs: options.pollIntervalMs ?? 1000,
          abortSignal,
          // Every answer, the polls' included: the last one says why an operation failed.
          onResponse: (response) => {
            last = response.parsedBody as Partial<EmailSendResult> | undefined;
          },
        });
        const result = await poller.pollUntilDone({ abortSignal });
        return { kind: "accepted", id: result.id ?? operationId };
      } catch (e) {
        const err = (e ?? {}) as SdkError;
        const refusal = refusalOf(err, last);
        if (refusal) return { ...refusal, message: scrub(refusal.message) };
        // No cause: the SDK's error may quote the connection string, and its request carries the signature.
        throw new Error(`Communication Services did not take the email: ${scrub(reasonOf(err, abortSignal, deadlineMs))}`);
      }
    },
  };
}

async function buildClient(options: CommunicationEmailOptions): Promise<EmailClient> {
  const { EmailClient } = await import("@azure/communication-email");
  const clientOptions = { retryOptions: { maxRetries: options.maxRetries ?? 2, retryDelayInMs: options.retryDelayMs ?? 1000 } };
  if (options.connectionString) {
    const parsed = parseConnectionString(options.connectionString);
    if (!parsed)
      throw new Error(
        "The email connection string is not endpoint=<url>;accesskey=<key> (its value is not repeated here: it holds the key).",
      );
    // Plain HTTP (a test server) only with a key: the key never travels, it signs. A token would, and the SDK refuses one over HTTP.
    return new EmailClient(options.connectionString, { ...clientOptions, allowInsecureConnection: parsed.endpoint.startsWith("http:") });
  }
  return new EmailClient(options.endpoint, await azureCredential(options.managedIdentityClientId), clientOptions);
}

/** The form the SDK parses (its own pattern is looser, and quotes the string whole when it does not match). */
function parseConnectionString(connectionString: string | undefined): { endpoint: string; accessKey: string } | undefined {
  const match = /^endpoint=([^;]+);accesskey=(.+)$/i.exec(connectionString ?? "");
  return match ? { endpoint: match[1]!, accessKey: match[2]! } : undefined;
}

/** A refusal for good: the operation ended Failed or Canceled, or the send itself was answered that its recipient is refused. */
function refusalOf(err: SdkError, last: Partial<EmailSendResult> | undefined): Extract<EmailOutcome, { kind: "refused" }> | null {
  if (last?.status === "Failed" || last?.status === "Canceled")
    return {
      kind: "refused",
      code: last.error?.code ?? last.status,
      message: firstLine(last.error?.message ?? `The email's operation ended ${last.status}.`),
    };
  const status = err.statusCode;
  // A 4xx to a poll says nothing of the email: it is thrown, and the next try asks for the same operation.
  const answered = err.name === "RestError" && err.request?.method === "POST" && status !== undefined;
  if (!answered || !refusesRecipient(status, errorCodeOf(err), err.message)) return null;
  return { kind: "refused", code: errorCodeOf(err) ?? `HTTP ${status}`, message: firstLine(err.message) };
}

/** The service's code: from the body's error.code (the SDK's err.code), else the x-ms-error-code header. */
const errorCodeOf = (err: SdkError): string | undefined => err.code ?? err.response?.headers?.get("x-ms-error-code") ?? undefined;

function reasonOf(err: SdkError, signal: AbortSignal, deadlineMs: number): string {
  const status = err.statusCode;
  const code = errorCodeOf(err) ?? "";
  if (signal.aborted) return `no answer within ${deadlineMs} ms`;
  if (status === 401 || status === 403)
    return `${status} ${code}: the app's identity or access key was refused (its role on the Communication Services resource, or the key, may be missing or not yet in effect)`;
  if (status) return `${status} ${code}: ${firstLine(err.message)}`;
  if (isNetworkFailure(err, NETWORK_CODES)) return `network error (${err.code ?? err.name ?? "unknown"}): ${firstLine(err.message)}`;
  return `${err.name ?? "Error"}: ${firstLine(err.message)}`;
}
