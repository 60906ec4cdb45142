import path from "node:path";
import { describe, expect, it } from "vitest";
import { BINDING_CONNECTIONS, requiredInAzure } from "../../shared/app/config.js";
import { checkContract, codeContract, REQUIRED_CONNECTIONS } from "../../infra/verify/contract.js";
import { instantiate } from "../../infra/verify/modules.js";
import { loadBicepFiles, type BicepFile } from "../../infra/verify/parse.js";
import { codes, describeProblems, fixturesDir, inline, repoRoot } from "./support.js";

const contractDir = path.join(fixturesDir, "contract");

/** The contract problems of a deployment whose entry is `entry`, with the contract fixtures as modules. */
async function contractProblems(entry: string | BicepFile) {
  const files = await loadBicepFiles(contractDir);
  const root = typeof entry === "string" ? files.find((f) => f.path === path.join(contractDir, entry)) : entry;
  if (!root) throw new Error(`no fixture ${typeof entry === "string" ? entry : entry.path}`);
  return checkContract(instantiate(root, [...files, root]), codeContract(repoRoot));
}

/** A deployment made of the three correct halves, plus `extra` Bicep. */
function complete(extra = "") {
  return inline(`module app 'contract/app.bicep' = {
  name: 'app'
}
module data 'contract/data.bicep' = {
  name: 'data'
}
module queue 'contract/queue.bicep' = {
  name: 'queue'
}
${extra}`);
}

describe("infra check: the contract with the code", () => {
  it("reads what it checks from the code", () => {
    const contract = codeContract(repoRoot);

    expect(contract.requiredSettings).toEqual(expect.arrayContaining([...requiredInAzure]));
    expect(contract.database).toEqual({ name: "helpdesk", setting: "COSMOS_DATABASE_NAME" });
    expect(contract.containers.map((c) => c.name)).toEqual(["tickets", "leases"]);
    expect(contract.queue.name).toBe("escalations");
    expect(REQUIRED_CONNECTIONS.map((c) => c.prefix)).toEqual(["AzureWebJobsStorage", "CosmosDBConnection", "ServiceBusConnection"]);
  });

  it("checks every connection the function registrations bind to", () => {
    for (const [kind, prefix] of Object.entries(BINDING_CONNECTIONS)) {
      expect(REQUIRED_CONNECTIONS).toContainEqual({ prefix, kind });
    }
  });

  it("passes a deployment that honours the whole contract (the fixtures' correct halves)", async () => {
    const problems = await contractProblems(await complete());

    expect(problems, describeProblems(problems)).toEqual([]);
  });

  it("reports a setting the code requires in Azure that the app does not get", async () => {
    const problems = await contractProblems("missing-setting.bicep");

    expect(codes(problems), describeProblems(problems)).toEqual(["missing-setting@5"]);
    expect(problems[0]?.message).toMatch(/app setting AUTH_AUDIENCE is not set/);
  });

  it("reports a container whose name is not the code's", async () => {
    const problems = await contractProblems("wrong-container.bicep");

    expect(codes(problems), describeProblems(problems)).toEqual(["container-name@21"]);
    expect(problems[0]?.message).toMatch(/no Cosmos DB container named 'tickets' .*found: ticket, leases/);
  });

  it("reports a tickets container whose defaultTtl is not -1 (receipts expire by their own ttl, tickets never)", async () => {
    const problems = await contractProblems("positive-default-ttl.bicep");

    expect(codes(problems), describeProblems(problems)).toEqual(["default-ttl@37"]);
    expect(problems[0]?.message).toMatch(/container 'tickets' must set defaultTtl: -1 .*found 86400/);
  });

  it("reports an indexing policy loaded from another file than the shared one", async () => {
    const problems = await contractProblems("foreign-indexing-policy.bicep");

    expect(codes(problems), describeProblems(problems)).toEqual(["indexing-policy@36"]);
    expect(problems[0]?.message).toMatch(
      /loads other-indexing-policy\.json, not the shared .*shared\/adapters\/cosmos\/indexing-policy\.json/,
    );
  });

  it("reports a connection given as a connection string, or without the managed identity", async () => {
    const problems = await contractProblems(
      await inline(`module data 'contract/data.bicep' = {
  name: 'data'
}
module queue 'contract/queue.bicep' = {
  name: 'queue'
}
resource settings 'Microsoft.Web/sites/config@2024-11-01' = {
  name: 'appsettings'
  properties: {
    AzureWebJobsStorage__accountName: 'st'
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: 'id'
    CosmosDBConnection__accountEndpoint: 'https://c.documents.azure.com:443/'
    CosmosDBConnection__credential: 'azurecli'
    CosmosDBConnection__clientId: 'id'
    ServiceBusConnection: 'Endpoint=sb://x.servicebus.windows.net/'
  }
}
resource app 'Microsoft.Web/sites@2024-11-01' = {
  name: 'func'
}
`),
    );
    const connectionProblems = problems.filter((p) => p.code === "connection-string" || p.code === "missing-connection");

    expect(connectionProblems.map((p) => p.message)).toEqual([
      expect.stringMatching(/CosmosDBConnection__credential must be 'managedidentity', found 'azurecli'/),
      expect.stringMatching(/ServiceBusConnection is set as a connection string/),
      expect.stringMatching(/ServiceBusConnection needs ServiceBusConnection__fullyQualifiedNamespace/),
      expect.stringMatching(/ServiceBusConnection needs ServiceBusConnection__credential/),
      expect.stringMatching(/ServiceBusConnection needs ServiceBusConnection__clientId/),
    ]);
  });

  it("reports an alert channel setting that is not a Key Vault reference", async () => {
    const problems = await contractProblems(
      await complete(`resource site 'Microsoft.Web/sites@2024-11-01' existing = {
  name: 'func-fixture'
}
resource more 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    TEAMS_WEBHOOK_URL: 'https://example.webhook.office.com/x'
    SLACK_WEBHOOK_URL: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/slack)'
  }
}
`),
    );

    expect(codes(problems), describeProblems(problems)).toEqual(["not-key-vault-reference@17"]);
    expect(problems[0]?.message).toMatch(/TEAMS_WEBHOOK_URL must be a Key Vault reference/);
  });

  it("follows parameters and module outputs to compare the database and queue settings with the resources", async () => {
    const problems = await contractProblems(
      await inline(`param databaseName string = 'tickets-db'
module app 'contract/app.bicep' = {
  name: 'app'
}
module queue 'contract/queue.bicep' = {
  name: 'queue'
}
module names 'contract/names.bicep' = {
  name: 'names'
  params: {
    database: databaseName
  }
}
resource account 'Microsoft.DocumentDB/databaseAccounts@2025-04-15' existing = {
  name: 'cosmos-fixture'
}
resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2025-04-15' = {
  parent: account
  name: names.outputs.database
}
`),
    );

    expect(problems.filter((p) => p.code === "database-name").map((p) => p.message)).toEqual([
      expect.stringMatching(/no Cosmos DB database named 'helpdesk' .*found: tickets-db/),
    ]);
  });
});
