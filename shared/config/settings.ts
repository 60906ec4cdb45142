import { z } from "zod";

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
  /** Local host port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(7071),
  /** Where the local host keeps its development signing key. */
  LOCAL_DIR: z.string().default(".local"),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Settings without which the app cannot run in Azure (no embedded defaults there). */
export const requiredInAzure = ["COSMOS_ENDPOINT", "AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URI"] as const;

/** App Service / Functions set these on every instance; nothing else does. */
export function isInsideAzure(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.WEBSITE_INSTANCE_ID || env.WEBSITE_SITE_NAME);
}

export class SettingsError extends Error {}

/** Fails fast with a message that names each bad or missing setting. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new SettingsError(`Invalid settings:\n  ${lines.join("\n  ")}`);
  }
  if (isInsideAzure(env)) {
    const missing = requiredInAzure.filter((name) => !env[name]);
    if (missing.length) throw new SettingsError(`Missing settings required in Azure: ${missing.join(", ")}`);
  }
  return parsed.data;
}
