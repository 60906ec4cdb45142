import { resolve } from "node:path";
import type { Config } from "../app/config.js";
import type { Host } from "./host.js";

/** What this host uses, said once at start-up. */
export function banner(host: Host, config: Config): string[] {
  const { cosmos, auth, serviceBus, escalation, cors, attachments, notifications } = config;
  const embedded = host.standIns.embeddedCosmos();
  const kept = host.standIns.keptStore();
  const where = kept
    ? `data kept in ${resolve(kept.file)}: ${kept.loaded ? `${kept.loaded.documents} documents loaded` : "new, empty"}`
    : "in memory, nothing kept (LOCAL_STORE=memory)";
  const store = cosmos.endpoint
    ? `Cosmos DB at ${cosmos.endpoint}`
    : `embedded Cosmos DB endpoint${embedded ? ` at ${embedded.endpoint}` : ""}, ${where}`;
  const identity = auth ? `tokens from ${auth.issuer}` : "tokens from the development issuer (npm run token)";
  const queue = serviceBus.namespace
    ? `Service Bus queue ${escalation.queue} on ${serviceBus.namespace} (its notifyOps function consumes it)`
    : serviceBus.connectionString
      ? `Service Bus queue ${escalation.queue} (connection string: emulator or test broker); this host consumes it`
      : "in-process queue (escalations, SLA timers, ticket commands and notifications run in this process)";
  // Defender for Storage scans uploads in Azure; nothing scans them here unless a test says it does.
  const scan = attachments.scanner
    ? "files served once Defender for Storage's scan found no threat"
    : "no malware scanner here: uploads are unscanned, and served";
  const files = attachments.accountUrl
    ? `Blob Storage at ${attachments.accountUrl}, container ${attachments.container}; ${scan}`
    : `embedded Azurite (${host.standIns.blobDir ? `data kept in ${resolve(host.standIns.blobDir)}` : "in memory"}, started at the first upload), container ${attachments.container}; ${scan}`;
  const email = notifications.email
    ? `requester emails through Communication Services at ${notifications.email.endpoint}, from ${notifications.email.sender}`
    : `requester emails written as .eml files in ${resolve(host.standIns.mailDir)} (EMAIL_ENDPOINT and EMAIL_SENDER send them)`;
  return [
    `Help desk API on ${host.url}`,
    `  docs:     ${host.url}/docs (try the calls with a token from npm run token)`,
    `  store:    ${store}`,
    `  identity: ${identity}`,
    `  queue:    ${queue}`,
    `  files:    ${files}`,
    `  email:    ${email}`,
    `  CORS:     ${cors.allowedOrigins.length ? cors.allowedOrigins.join(", ") : "no browser origins allowed (CORS_ALLOWED_ORIGINS)"}`,
  ];
}
