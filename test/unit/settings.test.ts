import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadSettings, requiredInAzure } from "../../shared/config/settings.js";

describe("settings", () => {
  it("run locally with none set, with their documented defaults", () => {
    const s = loadSettings({});
    expect(s).toMatchObject({ COSMOS_DATABASE_NAME: "helpdesk", PORT: 7071, ESCALATION_QUEUE_NAME: "escalations", ESCALATION_ACK_TIMEOUT_SECONDS: 900, ESCALATION_MAX_REPAGES: 3, CORS_ALLOWED_ORIGINS: [] });
  });

  it("treat an empty value as unset, so local.settings.example.json loads as it is", () => {
    const { Values } = JSON.parse(readFileSync("local.settings.example.json", "utf8")) as { Values: Record<string, string> };
    const s = loadSettings(Values);
    expect(s.AUTH_ISSUER).toBeUndefined();
    expect(s.CORS_ALLOWED_ORIGINS).toEqual(["http://localhost:5173"]);
  });

  it("fail with the name of each missing setting inside Azure", () => {
    expect(() => loadSettings({ WEBSITE_SITE_NAME: "helpdesk" })).toThrow(new RegExp(`Missing settings required in Azure: ${requiredInAzure.join(", ")}`));
  });

  it("fail with the name of a bad one", () => {
    expect(() => loadSettings({ COSMOS_ENDPOINT: "not a url" })).toThrow(/COSMOS_ENDPOINT/);
    expect(() => loadSettings({ ESCALATION_MAX_REPAGES: "many" })).toThrow(/ESCALATION_MAX_REPAGES/);
    expect(() => loadSettings({ ALERT_WEBHOOK_URL: "https://hooks.example.com/x" })).toThrow(/ALERT_WEBHOOK_SECRET/);
    // Half an issuer would quietly fall back to the development one.
    expect(() => loadSettings({ AUTH_ISSUER: "https://login.example.com/t/v2.0" })).toThrow(/set all three/);
  });
});
