import type { TokenCredential } from "@azure/identity";

/**
 * The app's one managed-identity credential in Azure, shared by the Cosmos DB and Service
 * Bus adapters: one credential chain to probe on a cold instance, not one per SDK.
 * Loaded only when asked for: the identity library is large and only Azure needs it.
 */
const credentials = new Map<string, Promise<TokenCredential>>();

export function azureCredential(managedIdentityClientId: string | undefined): Promise<TokenCredential> {
  const key = managedIdentityClientId ?? "";
  let credential = credentials.get(key);
  if (!credential) {
    credential = import("@azure/identity").then(({ DefaultAzureCredential }) => new DefaultAzureCredential({ managedIdentityClientId }));
    credentials.set(key, credential);
  }
  return credential;
}
