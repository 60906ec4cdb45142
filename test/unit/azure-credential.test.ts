import { DefaultAzureCredential } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { azureCredential } from "../../shared/adapters/identity/azure-credential.js";
import { serviceBusConnection } from "../../shared/adapters/servicebus/connection.js";

describe("the app's managed-identity credential", () => {
  it("is one per client id, shared by the adapters", async () => {
    const a = await azureCredential("client-1");
    expect(a).toBeInstanceOf(DefaultAzureCredential);
    expect(await azureCredential("client-1")).toBe(a);
    expect(await azureCredential("client-2")).not.toBe(a);
    const sb = await serviceBusConnection({ namespace: "sb-x.servicebus.windows.net", managedIdentityClientId: "client-1" });
    expect(sb).toMatchObject({ credential: a });
  });
});
