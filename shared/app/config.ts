import * as z from "zod";
import { ESCALATIONS_QUEUE, NOTIFICATIONS_QUEUE, TICKET_COMMANDS_QUEUE, TICKET_TIMERS_QUEUE } from "../adapters/servicebus/names.js";
import { ALERT_CHANNEL_SETTINGS, type ChannelSettings } from "../escalation/channels/settings.js";

/**
 * Every setting the Functions app reads, decoded once at start-up into one typed,
 * nested object; a bad or missing one fails with its name. `infra/` provides these
 * names as app settings; its contract test reads `envSchema` and `requiredInAzure`,
 * so a rename here fails that test instead of a deployment. Settings only the local
 * host reads are apart, in shared/local/local-config.ts.
 *
 * The alert channels' settings are kept as given: they are validated when the
 * notifier is built (shared/escalation/channels/from-config.ts), so that a bad one,
 * or a Key Vault reference Azure could not resolve, turns off that channel and not
 * the whole app.
 */
const optionalUrl = z.url().optional();
const csv = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

/**
 * A browser origin as the browser sends it: scheme, host and an optional port, nothing
 * more. `*`, a path or a trailing slash would match no Origin header and silently allow
 * nothing, so they stop start-up instead.
 */
const origins = csv.superRefine((values, ctx) => {
  for (const value of values) {
    let origin: string | null = null;
    try {
      const url = new URL(value);
      if (url.protocol === "http:" || url.protocol === "https:") origin = url.origin;
    } catch {
      // not a URL at all
    }
    if (origin !== value)
      ctx.addIssue({ code: "custom", message: `"${value}" is not an origin (scheme://host[:port], no path, no trailing slash)` });
  }
});

export const envSchema = z.object({
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
  /** The delegated scope a user's token must carry in `scp`; a token without `scp` must carry a role of the API. */
  AUTH_REQUIRED_SCOPE: z
    .string()
    .regex(/^[^\s]+$/, "one scope, without spaces")
    .default("access_as_user"),
  /** Comma-separated origins allowed to call the API from a browser. */
  CORS_ALLOWED_ORIGINS: origins,
  /** Service Bus namespace host, e.g. helpdesk-sb.servicebus.windows.net (managed identity). Unset locally: the in-process queue. */
  SERVICE_BUS_NAMESPACE: z.string().min(1).optional(),
  /** Only for the Service Bus emulator or a test broker; Azure uses the managed identity. */
  SERVICE_BUS_CONNECTION_STRING: z.string().min(1).optional(),
  ESCALATION_QUEUE_NAME: z.string().min(1).default(ESCALATIONS_QUEUE),
  /** The attachments' storage account, e.g. https://sthelpdeskfiles.blob.core.windows.net (managed identity). Unset locally: Azurite, embedded. */
  ATTACHMENTS_ACCOUNT_URL: optionalUrl,
  /** The container the attachments' blobs live in. */
  ATTACHMENTS_CONTAINER: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/, "a blob container name: 3 to 63 lowercase letters, digits and single hyphens")
    .default("attachments"),
  /** The largest attachment, in bytes (25 MiB). */
  ATTACHMENTS_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(256 * 1024 * 1024)
    .default(25 * 1024 * 1024),
  /**
   * Whether uploads are scanned for malware: `defender` (Defender for Storage, which tags each
   * blob with its verdict: only a clean one is served), or `off` (nothing scans: attachments are
   * unscanned, and served). Unset: `defender` with ATTACHMENTS_ACCOUNT_URL, `off` without.
   */
  ATTACHMENTS_MALWARE_SCANNING: z.enum(["defender", "off"]).optional(),
  /** The SLA clocks' timers: a warning or a breach is a message scheduled for its instant. */
  TIMER_QUEUE_NAME: z.string().min(1).default(TICKET_TIMERS_QUEUE),
  /** Commands a change fans out to other tickets (an incident's broadcast and cascade, a link told to the parent). */
  TICKET_COMMANDS_QUEUE_NAME: z.string().min(1).default(TICKET_COMMANDS_QUEUE),
  /** Requester emails and the apps' webhook events (issue "Tell the requester"). */
  NOTIFICATIONS_QUEUE_NAME: z.string().min(1).default(NOTIFICATIONS_QUEUE),
  /** The Communication Services endpoint the requester emails go through, e.g. https://acs-helpdesk.europe.communication.azure.com (managed identity). Unset locally: .eml files under .local/mail/. */
  EMAIL_ENDPOINT: optionalUrl,
  /** The address the emails come from: the Email Communication Service domain's, e.g. DoNotReply@<guid>.azurecomm.net. */
  EMAIL_SENDER: z.email().optional(),
  /** Only for a test server or a resource reached by its access key off Azure (endpoint=...;accesskey=...); Azure uses the managed identity. */
  EMAIL_CONNECTION_STRING: z.string().min(1).optional(),
  /** An email or webhook event the receiver did not take is tried again after this, then twice as long each time. */
  NOTIFICATION_RETRY_SECONDS: z.coerce.number().positive().default(30),
  /** Retries of an email or a webhook event (6 from 30 s: about an hour in all); an email then dead-letters, a webhook's failure counts towards pausing it. */
  NOTIFICATION_MAX_RETRIES: z.coerce.number().int().min(0).max(20).default(6),
  /** Unacknowledged this long after a page, ops is paged again. */
  ESCALATION_ACK_TIMEOUT_SECONDS: z.coerce.number().positive().default(900),
  /** Re-pages after the first page, at most. */
  ESCALATION_MAX_REPAGES: z.coerce.number().int().min(0).max(20).default(3),
  /** A channel that did not take an alert gets it again after this, then twice as long each time. */
  ESCALATION_RETRY_SECONDS: z.coerce.number().positive().default(30),
  /** Retries of an alert before it dead-letters (8 from 30 s: about two hours in all). */
  ESCALATION_MAX_RETRIES: z.coerce.number().int().min(0).max(20).default(8),
  /** Link in every alert; {id} and {number} are replaced. Unset: the host's own ticket URL (see Config.escalation). */
  TICKET_URL_TEMPLATE: z.string().min(1).optional(),
  /** Points a signed-in caller may spend per window (a read 1, a write 2, a page 3); per instance. */
  RATE_LIMIT_CALLER_POINTS: z.coerce.number().int().min(1).default(600),
  /** Points one client address may spend per window on the anonymous routes (health, openapi.json). */
  RATE_LIMIT_ANONYMOUS_POINTS: z.coerce.number().int().min(1).default(120),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
  /** Alert channels, each on when set: read as given (see above). */
  ALERT_WEBHOOK_URL: z.string().optional(),
  ALERT_WEBHOOK_SECRET: z.string().optional(),
  TEAMS_WEBHOOK_URL: z.string().optional(),
  SLACK_WEBHOOK_URL: z.string().optional(),
  PAGERDUTY_ROUTING_KEY: z.string().optional(),
  PAGERDUTY_EVENTS_URL: z.string().optional(),
});

/** The token issuer: the Functions entry point requires these wherever it runs (never the development issuer). */
const ISSUER_SETTINGS = ["AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URI"] as const;

/** Settings without which the app cannot run in Azure (no embedded defaults there). */
export const requiredInAzure = ["COSMOS_ENDPOINT", ...ISSUER_SETTINGS, "SERVICE_BUS_NAMESPACE", "EMAIL_ENDPOINT", "EMAIL_SENDER"] as const;

/**
 * Connections the trigger bindings use (identity-based: `<name>__fullyQualifiedNamespace`
 * or `__accountEndpoint`, `__credential`, `__clientId`); infra/ must provide them.
 */
export const BINDING_CONNECTIONS = { serviceBus: "ServiceBusConnection", cosmosDB: "CosmosDBConnection" } as const;

export interface Config {
  /** App Service / Functions set WEBSITE_* on every instance; nothing else does. */
  insideAzure: boolean;
  cosmos: { endpoint?: string; key?: string; database: string };
  /** Client id of the user-assigned managed identity, for every Azure client. */
  managedIdentityClientId?: string;
  /**
   * The token issuer; null: none configured (only the local host may then turn on the
   * development issuer; the Functions entry point requires one).
   */
  auth: { issuer: string; audience: string; jwksUri: string; requiredScope: string } | null;
  cors: { allowedOrigins: string[] };
  rateLimit: { callerPoints: number; anonymousPoints: number; windowSeconds: number };
  serviceBus: { namespace?: string; connectionString?: string };
  escalation: {
    queue: string;
    ackTimeoutSeconds: number;
    maxRepages: number;
    retrySeconds: number;
    maxRetries: number;
    /**
     * Unset: the composition links to the host's own address, which only the host knows
     * once it listens (the local host's PORT may be 0, any free port). infra/ always sets it.
     */
    ticketUrlTemplate?: string;
  };
  /** The SLA clocks' scheduled warnings and breaches. */
  timers: { queue: string };
  ticketCommands: { queue: string };
  /**
   * Requester emails and webhook events. `email`: the Communication Services endpoint and sender
   * (null: none configured, the local host writes .eml files instead); `connectionString` only off Azure.
   */
  notifications: {
    queue: string;
    email: { endpoint: string; sender: string; connectionString?: string } | null;
    retrySeconds: number;
    maxRetries: number;
  };
  /** Unset accountUrl: the local host's embedded Azurite (off Azure only). */
  /** `scanner`: Defender for Storage scans uploads (ATTACHMENTS_MALWARE_SCANNING). */
  attachments: { accountUrl?: string; container: string; maxBytes: number; scanner: boolean };
  /** As given: validated by the notifier, channel by channel. */
  alertChannels: ChannelSettings;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function isInsideAzure(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.WEBSITE_INSTANCE_ID || env.WEBSITE_SITE_NAME);
}

/** An empty setting is an unset one (local.settings.json and app settings write "" for "none"). */
export function givenSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""));
}

/** The given settings decoded by `schema`, or a ConfigError naming each bad one. */
export function parseSettings<S extends z.ZodType>(schema: S, given: Record<string, string>): z.output<S> {
  const parsed = schema.safeParse(given);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  throw new ConfigError(`Invalid settings:\n  ${lines.join("\n  ")}`);
}

export interface LoadOptions {
  /** Fail unless the token issuer is set (ISSUER_SETTINGS): the Functions entry point, wherever it runs. */
  requireIssuer?: boolean;
}

/** Decodes the settings, or fails with a message naming each bad or missing one. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Config {
  const given = givenSettings(env);
  const s = parseSettings(envSchema, given);
  const insideAzure = isInsideAzure(env);
  const { AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience, AUTH_JWKS_URI: jwksUri } = s;
  const auth = issuer && audience && jwksUri ? { issuer, audience, jwksUri, requiredScope: s.AUTH_REQUIRED_SCOPE } : null;
  const requireSettings = (names: readonly string[], where: string) => {
    const missing = names.filter((name) => !given[name]);
    if (missing.length) throw new ConfigError(`Missing settings required ${where}: ${missing.join(", ")}`);
  };
  if (options.requireIssuer) requireSettings(ISSUER_SETTINGS, "by the Functions entry point");
  if (!auth && (issuer || audience || jwksUri)) {
    throw new ConfigError(
      "Invalid settings:\n  AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URI: set all three (a token issuer) or none (the local host's development issuer)",
    );
  }
  if (insideAzure) requireSettings(requiredInAzure, "in Azure");
  if (insideAzure && s.EMAIL_CONNECTION_STRING)
    throw new ConfigError(
      "Invalid settings:\n  EMAIL_CONNECTION_STRING: in Azure the emails are sent with the managed identity (EMAIL_ENDPOINT)",
    );
  // In Azure a file is served only once Defender for Storage found it clean (infra/ turns the scan on).
  if (insideAzure && s.ATTACHMENTS_MALWARE_SCANNING === "off")
    throw new ConfigError(
      "Invalid settings:\n  ATTACHMENTS_MALWARE_SCANNING: off is for hosts outside Azure; in Azure uploads are scanned (defender)",
    );
  const alertChannels = Object.fromEntries(
    ALERT_CHANNEL_SETTINGS.flatMap((name) => (given[name] === undefined ? [] : [[name, given[name]]])),
  );
  return {
    insideAzure,
    cosmos: { endpoint: s.COSMOS_ENDPOINT, key: s.COSMOS_KEY, database: s.COSMOS_DATABASE_NAME },
    managedIdentityClientId: s.AZURE_CLIENT_ID,
    auth,
    cors: { allowedOrigins: s.CORS_ALLOWED_ORIGINS },
    rateLimit: {
      callerPoints: s.RATE_LIMIT_CALLER_POINTS,
      anonymousPoints: s.RATE_LIMIT_ANONYMOUS_POINTS,
      windowSeconds: s.RATE_LIMIT_WINDOW_SECONDS,
    },
    serviceBus: { namespace: s.SERVICE_BUS_NAMESPACE, connectionString: s.SERVICE_BUS_CONNECTION_STRING },
    escalation: {
      queue: s.ESCALATION_QUEUE_NAME,
      ackTimeoutSeconds: s.ESCALATION_ACK_TIMEOUT_SECONDS,
      maxRepages: s.ESCALATION_MAX_REPAGES,
      retrySeconds: s.ESCALATION_RETRY_SECONDS,
      maxRetries: s.ESCALATION_MAX_RETRIES,
      ticketUrlTemplate: s.TICKET_URL_TEMPLATE,
    },
    timers: { queue: s.TIMER_QUEUE_NAME },
    ticketCommands: { queue: s.TICKET_COMMANDS_QUEUE_NAME },
    notifications: {
      queue: s.NOTIFICATIONS_QUEUE_NAME,
      email: emailOf(s),
      retrySeconds: s.NOTIFICATION_RETRY_SECONDS,
      maxRetries: s.NOTIFICATION_MAX_RETRIES,
    },
    attachments: {
      accountUrl: s.ATTACHMENTS_ACCOUNT_URL,
      container: s.ATTACHMENTS_CONTAINER,
      maxBytes: s.ATTACHMENTS_MAX_BYTES,
      scanner: (s.ATTACHMENTS_MALWARE_SCANNING ?? (s.ATTACHMENTS_ACCOUNT_URL ? "defender" : "off")) === "defender",
    },
    alertChannels,
  };
}

/** Both or neither: an endpoint without a sender (or the other way round) would fail at the first email, not at start-up. */
function emailOf(s: z.output<typeof envSchema>): Config["notifications"]["email"] {
  const { EMAIL_ENDPOINT: endpoint, EMAIL_SENDER: sender, EMAIL_CONNECTION_STRING: connectionString } = s;
  if (!endpoint && !sender) {
    if (connectionString)
      throw new ConfigError("Invalid settings:\n  EMAIL_CONNECTION_STRING: set EMAIL_ENDPOINT and EMAIL_SENDER with it");
    return null;
  }
  if (!endpoint || !sender)
    throw new ConfigError("Invalid settings:\n  EMAIL_ENDPOINT, EMAIL_SENDER: set both (emails sent) or neither (.eml files locally)");
  return { endpoint, sender, ...(connectionString ? { connectionString } : {}) };
}
