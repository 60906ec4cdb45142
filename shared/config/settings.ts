import { z } from "zod";
import { ESCALATIONS_QUEUE } from "../escalation/names.js";

/**
 * Every environment setting the code reads, validated once at start-up.
 * `infra/` provides these names as app settings; its contract test reads
 * `requiredInAzure` below, so a rename here fails that test instead of a deployment.
 */
const optionalUrl = z.string().url().optional();
const csv = z
  .string()
  .optional()
  .transform((v) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean));

export const settingsSchema = z.object({
  /** Cosmos DB account endpoint. Unset on the local host: the embedded endpoint is used. */
  COSMOS_ENDPOINT: optionalUrl,
  /** Only for the Cosmos DB emulator; Azure uses the managed identity (local auth is off). */
  COSMOS_KEY: z.string().optional(),
  COSMOS_DATABASE_NAME: z.string().min(1).default("helpdesk"),
  /** Client id of the user-assigned managed identity (Azure only). */
  AZURE_CLIENT_ID: z.string().optional(),
  /** Token issuer (`iss`), e.g. https://login.microsoftonline.com/{tenant}/v2.0 */
  AUTH_ISSUER: z.string().min(1).optional(),
  /** Expected audience (`aud`), e.g. api://helpdesk or the API's client id. */
  AUTH_AUDIENCE: z.string().min(1).optional(),
  /** The issuer's JWKS, e.g. https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys */
  AUTH_JWKS_URI: optionalUrl,
  /** Comma-separated origins allowed to call the API from a browser. */
  CORS_ALLOWED_ORIGINS: csv,
  /** Service Bus namespace host, e.g. helpdesk-sb.servicebus.windows.net (managed identity). Unset locally: the in-process queue. */
  SERVICE_BUS_NAMESPACE: z.string().min(1).optional(),
  /** Only for the Service Bus emulator or a test broker; Azure uses the managed identity. */
  SERVICE_BUS_CONNECTION_STRING: z.string().min(1).optional(),
  ESCALATION_QUEUE_NAME: z.string().min(1).default(ESCALATIONS_QUEUE),
  /** Unacknowledged this long after a page, ops is paged again. */
  ESCALATION_ACK_TIMEOUT_SECONDS: z.coerce.number().positive().default(900),
  /** Re-pages after the first page, at most. */
  ESCALATION_MAX_REPAGES: z.coerce.number().int().min(0).max(20).default(3),
  /** A channel that did not take an alert gets it again after this, then twice as long each time. */
  ESCALATION_RETRY_SECONDS: z.coerce.number().positive().default(30),
  /** Retries of an alert before it dead-letters (8 from 30 s: about two hours in all). */
  ESCALATION_MAX_RETRIES: z.coerce.number().int().min(0).max(20).default(8),
  /** Link in every alert; {id} and {number} are replaced. */
  TICKET_URL_TEMPLATE: z.string().min(1).default("http://localhost:7071/api/tickets/{id}"),
  /** Alert channels: each is used when set. */
  ALERT_WEBHOOK_URL: optionalUrl,
  ALERT_WEBHOOK_SECRET: z.string().min(16).optional(),
  TEAMS_WEBHOOK_URL: optionalUrl,
  SLACK_WEBHOOK_URL: optionalUrl,
  PAGERDUTY_ROUTING_KEY: z.string().min(1).optional(),
  PAGERDUTY_EVENTS_URL: optionalUrl,
  /** Local host port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(7071),
  /** Where the local host keeps its development signing key. */
  LOCAL_DIR: z.string().default(".local"),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Settings without which the app cannot run in Azure (no embedded defaults there). */
export const requiredInAzure = ["COSMOS_ENDPOINT", "AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URI", "SERVICE_BUS_NAMESPACE"] as const;

/** App Service / Functions set these on every instance; nothing else does. */
export function isInsideAzure(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.WEBSITE_INSTANCE_ID || env.WEBSITE_SITE_NAME);
}

export class SettingsError extends Error {}

/**
 * Connections the trigger bindings use (identity-based: `<name>__fullyQualifiedNamespace`
 * or `__accountEndpoint`, `__credential`, `__clientId`); infra/ must provide them.
 */
export const BINDING_CONNECTIONS = { serviceBus: "ServiceBusConnection", cosmosDB: "CosmosDBConnection" } as const;

/** Fails fast with a message that names each bad or missing setting. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  // An empty setting is an unset one (local.settings.json and app settings write "" for "none").
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = settingsSchema.safeParse(given);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new SettingsError(`Invalid settings:\n  ${lines.join("\n  ")}`);
  }
  const auth = [parsed.data.AUTH_ISSUER, parsed.data.AUTH_AUDIENCE, parsed.data.AUTH_JWKS_URI].filter(Boolean).length;
  if (auth !== 0 && auth !== 3) {
    throw new SettingsError("Invalid settings:\n  AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URI: set all three (a token issuer) or none (the development issuer)");
  }
  if (parsed.data.ALERT_WEBHOOK_URL && !parsed.data.ALERT_WEBHOOK_SECRET) {
    throw new SettingsError("Invalid settings:\n  ALERT_WEBHOOK_SECRET: required when ALERT_WEBHOOK_URL is set (alerts are signed)");
  }
  if (isInsideAzure(env)) {
    const missing = requiredInAzure.filter((name) => !given[name]);
    if (missing.length) throw new SettingsError(`Missing settings required in Azure: ${missing.join(", ")}`);
  }
  return parsed.data;
}
