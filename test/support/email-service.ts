import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for Azure Communication Services Email, answering what @azure/communication-email
 * 1.1.0 asks (api-version 2025-09-01) as the service does:
 *
 * - `POST /emails:send?api-version=...`, signed with the access key (HMAC-SHA256 over
 *   "POST\n<path and query>\n<x-ms-date>;<host>;<x-ms-content-sha256>", the key base64-decoded:
 *   @azure/communication-common's communicationAccessKeyCredentialPolicy), answers 202 with
 *   `Operation-Location` (the operation's URL), `Retry-After` and `{ id, status: "Running" }`;
 *   the `Operation-Id` header, when given, is the operation's id.
 * - `GET /emails/operations/{id}?api-version=...`, signed the same way (over an empty body),
 *   answers 200 `{ id, status }`: "Succeeded", or "Failed" with `error` for an address told to
 *   fail later.
 * - Errors are `{ error: { code, message } }` with the code also in `x-ms-error-code`; a request
 *   that is not signed with the key is a 401.
 *
 * Assumed, not read in the SDK: the 401's code ("Denied"), the 15 minutes' allowed clock skew,
 * the 400s' codes, and that a send repeating an Operation-Id answers that operation again
 * (202, nothing sent twice) rather than a 409.
 */
export interface AcceptedEmail {
  /** Date.now() when the service took it. */
  at: number;
  operationId: string;
  from: string;
  to: { address: string; displayName?: string }[];
  subject: string;
  plainText?: string;
}

/** Every POST /emails:send, whatever it was answered. */
export interface SeenSend {
  at: number;
  status: number;
  /** The Operation-Id header, as given. */
  operationId?: string;
  body: unknown;
}

export interface EmailService {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  /** endpoint=<url>/;accesskey=<the key>: the form EmailClient parses. */
  connectionString: string;
  accessKey: string;
  sender: string;
  /** The emails taken and delivered, in order. */
  accepted: AcceptedEmail[];
  sends: SeenSend[];
  /** The operation id of every poll (GET /emails/operations/{id}). */
  polls: string[];
  /** A send to this address is refused at once: 400 InvalidRecipients. */
  refuse(address: string): void;
  /** A send to this address is taken (202), and its operation ends Failed with this code. */
  failLater(address: string, code?: string): void;
  /** The next n sends are answered `status` (503, 429...), with Retry-After when given. */
  failNext(n: number, status: number, retryAfterSeconds?: number): void;
  /** The next n sends are never answered (until close). */
  hangNext(n: number): void;
  close(): Promise<void>;
}

export interface EmailServiceOptions {
  sender?: string;
  /** Polls that answer "Running" before an operation ends (default 0: the first poll says it is done). */
  runningPolls?: number;
}

interface Operation {
  id: string;
  status: "Running" | "Succeeded" | "Failed";
  error?: { code: string; message: string };
  pollsLeft: number;
}

const SKEW_MS = 15 * 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function startEmailService(options: EmailServiceOptions = {}): Promise<EmailService> {
  const sender = options.sender ?? "DoNotReply@00000000-0000-0000-0000-000000000000.azurecomm.net";
  const accessKey = randomBytes(32).toString("base64");
  const operations = new Map<string, Operation>();
  const refused = new Set<string>();
  const failingLater = new Map<string, string>();
  const failures: { status: number; retryAfter?: number }[] = [];
  let hangs = 0;
  const accepted: AcceptedEmail[] = [];
  const sends: SeenSend[] = [];
  const polls: string[] = [];
  let url = "";

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => answer(req, res, Buffer.concat(chunks).toString("utf8")));
  });

  function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
    const target = new URL(req.url ?? "/", url);
    const apiVersion = target.searchParams.get("api-version");
    const operation = /^\/emails\/operations\/([^/]+)$/.exec(target.pathname);
    if (req.method === "POST" && target.pathname === "/emails:send") {
      const seen: SeenSend = { at: Date.now(), status: 0, operationId: header(req, "operation-id"), body: parsed(body) };
      sends.push(seen);
      if (hangs > 0) {
        hangs--;
        return; // held open until close()
      }
      const reply = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        seen.status = status;
        send(res, status, json, headers);
      };
      const failure = failures.shift();
      if (failure) {
        const code = failure.status === 429 ? "TooManyRequests" : "ServiceUnavailable";
        return reply(failure.status, problem(code, `The service is not taking emails now (${failure.status}).`), {
          ...(failure.retryAfter !== undefined ? { "retry-after": String(failure.retryAfter) } : {}),
        });
      }
      if (!signed(req, body)) return reply(401, problem("Denied", "Denied by the resource provider."));
      if (!apiVersion) return reply(400, problem("MissingApiVersionParameter", "The api-version query parameter is required."));
      const invalid = invalidMessage(seen.body, seen.operationId);
      if (invalid) return reply(400, problem(invalid.code, invalid.message));
      const message = seen.body as Message;
      const id = seen.operationId ?? randomUUID();
      let op = operations.get(id);
      if (!op) {
        const failCode = message.recipients.to.map((r) => failingLater.get(r.address.toLowerCase())).find(Boolean);
        op = {
          id,
          status: failCode ? "Failed" : "Succeeded",
          ...(failCode ? { error: { code: failCode, message: "The email could not be delivered to its recipients." } } : {}),
          pollsLeft: options.runningPolls ?? 0,
        };
        operations.set(id, op);
        if (!failCode)
          accepted.push({
            at: Date.now(),
            operationId: id,
            from: message.senderAddress,
            to: message.recipients.to,
            subject: message.content.subject,
            plainText: message.content.plainText,
          });
      }
      return reply(
        202,
        { id, status: "Running" },
        { "operation-location": `${url}/emails/operations/${id}?api-version=${apiVersion}`, "retry-after": "1" },
      );
    }
    if (req.method === "GET" && operation) {
      if (!signed(req, body)) return send(res, 401, problem("Denied", "Denied by the resource provider."));
      if (!apiVersion) return send(res, 400, problem("MissingApiVersionParameter", "The api-version query parameter is required."));
      const op = operations.get(decodeURIComponent(operation[1]!));
      if (!op) return send(res, 404, problem("NotFound", "No such operation."));
      polls.push(op.id);
      if (op.pollsLeft > 0) {
        op.pollsLeft--;
        return send(res, 200, { id: op.id, status: "Running" });
      }
      return send(res, 200, { id: op.id, status: op.status, ...(op.error ? { error: op.error } : {}) });
    }
    send(res, 404, problem("NotFound", `No route for ${req.method} ${target.pathname}.`));
  }

  /** The access-key signature, checked as the service does: the same string to sign, the same key. */
  function signed(req: IncomingMessage, body: string): boolean {
    const date = header(req, "x-ms-date");
    const contentHash = header(req, "x-ms-content-sha256");
    const host = header(req, "host");
    const auth = /^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=(.+)$/.exec(header(req, "authorization") ?? "");
    if (!date || !contentHash || !host || !auth) return false;
    if (!(Math.abs(Date.now() - Date.parse(date)) <= SKEW_MS)) return false;
    if (contentHash !== createHash("sha256").update(body).digest("base64")) return false;
    const toSign = `${req.method}\n${req.url}\n${date};${host};${contentHash}`;
    const expected = createHmac("sha256", Buffer.from(accessKey, "base64")).update(toSign).digest();
    const given = Buffer.from(auth[1]!, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    connectionString: `endpoint=${url}/;accesskey=${accessKey}`,
    accessKey,
    sender,
    accepted,
    sends,
    polls,
    refuse: (address) => void refused.add(address.toLowerCase()),
    failLater: (address, code = "EmailDroppedAllRecipientsSuppressed") => void failingLater.set(address.toLowerCase(), code),
    failNext: (n, status, retryAfter) => failures.push(...Array.from({ length: n }, () => ({ status, retryAfter }))),
    hangNext: (n) => void (hangs += n),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };

  /** What the service checks of a message before it takes it: the sender, at least one recipient, a subject and a body. */
  function invalidMessage(body: unknown, operationId: string | undefined): { code: string; message: string } | null {
    if (operationId !== undefined && !UUID.test(operationId)) return { code: "BadRequest", message: "Operation-Id must be a UUID." };
    const m = body as Partial<Message> | null;
    if (!m || typeof m !== "object") return { code: "BadRequest", message: "The body is not a JSON email message." };
    if (m.senderAddress !== sender)
      return { code: "BadRequest", message: `senderAddress ${String(m.senderAddress)} is not this resource's sender.` };
    const to = m.recipients?.to;
    if (!Array.isArray(to) || to.length === 0 || !to.every((r) => typeof r?.address === "string" && r.address.includes("@")))
      return { code: "InvalidRecipients", message: "recipients.to must list at least one address." };
    const refusedOne = to.find((r) => refused.has(r.address.toLowerCase()));
    if (refusedOne) return { code: "InvalidRecipients", message: `The recipient ${refusedOne.address} is not valid.` };
    if (typeof m.content?.subject !== "string" || m.content.subject === "")
      return { code: "BadRequest", message: "content.subject is required." };
    if (typeof m.content.plainText !== "string" && typeof m.content.html !== "string")
      return { code: "BadRequest", message: "content.plainText or content.html is required." };
    return null;
  }
}

interface Message {
  senderAddress: string;
  recipients: { to: { address: string; displayName?: string }[] };
  content: { subject: string; plainText?: string; html?: string };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parsed(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

const problem = (code: string, message: string) => ({ error: { code, message } });

function send(res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): void {
  const code = (json as { error?: { code?: string } }).error?.code;
  res
    .writeHead(status, { "content-type": "application/json", ...(code ? { "x-ms-error-code": code } : {}), ...headers })
    .end(JSON.stringify(json));
}
