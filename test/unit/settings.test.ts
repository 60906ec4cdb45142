import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig, requiredInAzure } from "../../shared/app/config.js";
import { loadLocalConfig } from "../../shared/local/local-config.js";

describe("settings", () => {
  it("run locally with none set, with their documented defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      insideAzure: false,
      cosmos: { database: "helpdesk" },
      auth: null,
      cors: { allowedOrigins: [] },
      escalation: { queue: "escalations", ackTimeoutSeconds: 900, maxRepages: 3, retrySeconds: 30, maxRetries: 8 },
      alertChannels: {},
    });
    expect(loadLocalConfig({})).toEqual({ port: 7071, dir: ".local", store: "file" });
  });

  it("treat an empty value as unset, so local.settings.example.json loads as it is", () => {
    const { Values } = JSON.parse(readFileSync("local.settings.example.json", "utf8")) as { Values: Record<string, string> };
    // The Functions entry point requires an issuer wherever it runs: the example names one to fill in.
    const c = loadConfig(Values, { requireIssuer: true });
    expect(c.auth).toMatchObject({ issuer: "https://login.microsoftonline.com/YOUR-TENANT-ID/v2.0", audience: "YOUR-API-APPLICATION-ID" });
    expect(c.alertChannels).toEqual({});
    expect(c.cors.allowedOrigins).toEqual(["http://localhost:5173"]);
  });

  it("fail with the name of each missing setting inside Azure", () => {
    expect(() => loadConfig({ WEBSITE_SITE_NAME: "helpdesk" })).toThrow(
      new RegExp(`Missing settings required in Azure: ${requiredInAzure.join(", ")}`),
    );
  });

  it("scan attachments with Defender where they live in an account, nowhere else unless told; never off in Azure", () => {
    expect(loadConfig({}).attachments.scanner).toBe(false);
    expect(loadConfig({ ATTACHMENTS_ACCOUNT_URL: "https://files.blob.core.windows.net" }).attachments.scanner).toBe(true);
    expect(loadConfig({ ATTACHMENTS_MALWARE_SCANNING: "defender" }).attachments.scanner).toBe(true);
    expect(
      loadConfig({ ATTACHMENTS_ACCOUNT_URL: "https://files.blob.core.windows.net", ATTACHMENTS_MALWARE_SCANNING: "off" }).attachments
        .scanner,
    ).toBe(false);
    expect(() => loadConfig({ ATTACHMENTS_MALWARE_SCANNING: "maybe" })).toThrow(/ATTACHMENTS_MALWARE_SCANNING/);
    const azure = {
      WEBSITE_SITE_NAME: "helpdesk",
      COSMOS_ENDPOINT: "https://db.documents.azure.com",
      AUTH_ISSUER: "https://login.example.com/t/v2.0",
      AUTH_AUDIENCE: "api://helpdesk",
      AUTH_JWKS_URI: "https://login.example.com/t/keys",
      SERVICE_BUS_NAMESPACE: "sb.servicebus.windows.net",
      EMAIL_ENDPOINT: "https://acs-helpdesk.europe.communication.azure.com",
      EMAIL_SENDER: "DoNotReply@0000-1111.azurecomm.net",
    };
    expect(loadConfig(azure).insideAzure).toBe(true);
    expect(() => loadConfig({ ...azure, ATTACHMENTS_MALWARE_SCANNING: "off" })).toThrow(
      /ATTACHMENTS_MALWARE_SCANNING: off is for hosts outside Azure/,
    );
  });

  it("send the requester emails through Communication Services with both EMAIL_ENDPOINT and EMAIL_SENDER, or write .eml files with neither", () => {
    expect(loadConfig({}).notifications).toEqual({ queue: "notifications", email: null, retrySeconds: 30, maxRetries: 6 });
    const email = { EMAIL_ENDPOINT: "https://acs.europe.communication.azure.com", EMAIL_SENDER: "DoNotReply@x.azurecomm.net" };
    expect(loadConfig(email).notifications.email).toEqual({ endpoint: email.EMAIL_ENDPOINT, sender: email.EMAIL_SENDER });
    expect(() => loadConfig({ EMAIL_ENDPOINT: email.EMAIL_ENDPOINT })).toThrow(/EMAIL_ENDPOINT, EMAIL_SENDER: set both/);
    expect(() => loadConfig({ EMAIL_SENDER: email.EMAIL_SENDER })).toThrow(/EMAIL_ENDPOINT, EMAIL_SENDER: set both/);
    expect(() => loadConfig({ ...email, EMAIL_SENDER: "not an address" })).toThrow(/EMAIL_SENDER/);
    expect(() => loadConfig({ EMAIL_CONNECTION_STRING: "endpoint=x;accesskey=y" })).toThrow(/EMAIL_CONNECTION_STRING: set EMAIL_ENDPOINT/);
    const key = { ...email, EMAIL_CONNECTION_STRING: "endpoint=https://acs/;accesskey=a2V5" };
    expect(loadConfig(key).notifications.email?.connectionString).toBe(key.EMAIL_CONNECTION_STRING);
  });

  it("name the delegated scope a user's token must carry: AUTH_REQUIRED_SCOPE, default access_as_user", () => {
    const issuer = {
      AUTH_ISSUER: "https://login.example.com/t/v2.0",
      AUTH_AUDIENCE: "api://helpdesk",
      AUTH_JWKS_URI: "https://login.example.com/t/keys",
    };
    expect(loadConfig(issuer).auth).toEqual({
      issuer: issuer.AUTH_ISSUER,
      audience: issuer.AUTH_AUDIENCE,
      jwksUri: issuer.AUTH_JWKS_URI,
      requiredScope: "access_as_user",
    });
    expect(loadConfig({ ...issuer, AUTH_REQUIRED_SCOPE: "Tickets.ReadWrite" }).auth?.requiredScope).toBe("Tickets.ReadWrite");
    expect(() => loadConfig({ ...issuer, AUTH_REQUIRED_SCOPE: "a b" })).toThrow(/AUTH_REQUIRED_SCOPE/);
  });

  it("for the Functions entry point, require the token issuer wherever it runs, naming each missing setting", () => {
    expect(() => loadConfig({}, { requireIssuer: true })).toThrow(/AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URI/);
    expect(() => loadConfig({ AUTH_ISSUER: "https://login.example.com/t/v2.0" }, { requireIssuer: true })).toThrow(
      /required by the Functions entry point: AUTH_AUDIENCE, AUTH_JWKS_URI/,
    );
  });

  it("fail with the name of a bad one", () => {
    expect(() => loadConfig({ COSMOS_ENDPOINT: "not a url" })).toThrow(/COSMOS_ENDPOINT/);
    expect(() => loadConfig({ ESCALATION_MAX_REPAGES: "many" })).toThrow(/ESCALATION_MAX_REPAGES/);
    expect(() => loadLocalConfig({ PORT: "seventy" })).toThrow(/PORT/);
    expect(() => loadLocalConfig({ LOCAL_STORE: "disk" })).toThrow(/LOCAL_STORE: .*"file"\|"memory"/);
    // Half an issuer would quietly fall back to the development one.
    expect(() => loadConfig({ AUTH_ISSUER: "https://login.example.com/t/v2.0" })).toThrow(/set all three/);
  });

  it("take CORS_ALLOWED_ORIGINS only as origins, and stop start-up on anything else, naming it", () => {
    expect(loadConfig({ CORS_ALLOWED_ORIGINS: "http://localhost:5173, https://app.example.com:8443" }).cors.allowedOrigins).toEqual([
      "http://localhost:5173",
      "https://app.example.com:8443",
    ]);
    for (const bad of ["*", "https://app.example.com/", "app.example.com", "https://app.example.com/path", "ftp://files.example.com"]) {
      expect(() => loadConfig({ CORS_ALLOWED_ORIGINS: `http://localhost:5173,${bad}` }), bad).toThrow(/CORS_ALLOWED_ORIGINS/);
      expect(() => loadConfig({ CORS_ALLOWED_ORIGINS: bad }), bad).toThrow(`"${bad}" is not an origin`);
    }
  });

  it("leave the alert channels' values to the notifier: a bad one does not stop the app", () => {
    const c = loadConfig({
      ALERT_WEBHOOK_URL: "https://hooks.example.com/x",
      TEAMS_WEBHOOK_URL: "@Microsoft.KeyVault(SecretUri=https://x.vault.azure.net/secrets/y)",
    });
    expect(c.alertChannels).toEqual({
      ALERT_WEBHOOK_URL: "https://hooks.example.com/x",
      TEAMS_WEBHOOK_URL: "@Microsoft.KeyVault(SecretUri=https://x.vault.azure.net/secrets/y)",
    });
  });
});
