import { describe, expect, it } from "vitest";
import { checkResources } from "../../infra/verify/resources.js";
import type { BicepFile } from "../../infra/verify/parse.js";
import { announceMissingTypes, codes, describeProblems, fixture, haveTypes, inline, schemas } from "./support.js";

announceMissingTypes("schema");

function check(file: BicepFile) {
  if (!schemas) throw new Error("schemas absent");
  return checkResources([file], schemas);
}

const namespace = (body: string) => `resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = ${body}`;

describe.skipIf(!haveTypes)("infra check: resources against the Azure schemas", () => {
  it.each([
    ["unknown-api-version.bicep", "unknown-api-version@2", /2099-01-01.*defined: 2024-01-01/],
    ["unknown-property.bicep", "unknown-property@11", /'properties\.zoneRedundnat' is not a property/],
    ["read-only.bicep", "read-only@6", /'properties\.clientId' is read-only/],
    ["missing-required.bicep", "missing-required@5", /sku: required property 'name' is missing/],
    ["bad-literal.bicep", "bad-literal@6", /'Gold' is not an allowed value \('Basic', 'Standard', 'Premium'\)/],
  ])("reports exactly the problem planted in %s", async (name, expected, message) => {
    const problems = check(await fixture("schema", name));

    expect(codes(problems), describeProblems(problems)).toEqual([expected]);
    expect(problems[0]?.message).toMatch(message);
  });

  it("reports a resource type the schemas do not know at all", async () => {
    const problems = check(await inline(`resource x 'Microsoft.Nothing/widgets@2024-01-01' = {\n  name: 'x'\n}\n`));

    expect(codes(problems)).toEqual(["unknown-type@1"]);
  });

  it("resolves nested child resources to their full type and inherited API version", async () => {
    const problems = check(
      await inline(`resource account 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: 'stfixture'

  resource blobs 'blobServices' = {
    name: 'default'

    resource packages 'containers' = {
      name: 'packages'
      properties: {
        publicAcess: 'None'
      }
    }
  }
}
`),
    );

    expect(codes(problems)).toEqual(["unknown-property@10"]);
    expect(problems[0]?.message).toMatch(
      /^Microsoft\.Storage\/storageAccounts\/blobServices\/containers@2025-06-01: .*did you mean 'publicAccess'/,
    );
  });

  it("does not judge the body of an existing resource", async () => {
    const problems = check(
      await inline(`resource account 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: 'stfixture'
  scope: resourceGroup('other')
}
`),
    );

    expect(problems).toEqual([]);
  });

  it("checks conditional and looped resources like any other", async () => {
    const problems = check(
      await inline(`param enabled bool
param names array
resource one 'Microsoft.ServiceBus/namespaces@2024-01-01' = if (enabled) {
  name: 'a'
  location: 'westeurope'
  sku: { name: 'Gold' }
}
resource many 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [for n in names: {
  name: n
  properties: { maxDeliveryCount: 'ten' }
}]
`),
    );

    expect(codes(problems)).toEqual(["bad-literal@6", "type-mismatch@10"]);
  });

  it("checks every literal branch of a ternary and accepts computed values", async () => {
    const problems = check(
      await inline(
        `param premium bool\nparam tier string\n` +
          namespace(`{
  name: 'a'
  location: 'westeurope'
  sku: {
    name: premium ? 'Premium' : 'Gold'
    tier: tier
  }
}
`),
      ),
    );

    expect(codes(problems)).toEqual(["bad-literal@7"]);
    expect(problems[0]?.message).toMatch(/'Gold'/);
  });

  it("picks the variant of a discriminated type from its discriminator", async () => {
    const problems = check(
      await inline(`resource site 'Microsoft.Web/sites@2024-11-01' existing = {
  name: 'func-fixture'
}
resource settings 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    ANY_SETTING: 'is fine here'
  }
}
resource wrong 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: site
  name: 'appsetings'
}
`),
    );

    expect(codes(problems)).toEqual(["bad-literal@13"]);
    expect(problems[0]?.message).toMatch(/'appsetings' is not one of .*'appsettings'/);
  });

  it("checks JSON pulled in with loadJsonContent against the property's type", async () => {
    const problems = check(
      await inline(`resource account 'Microsoft.DocumentDB/databaseAccounts@2025-04-15' existing = {
  name: 'cosmos-fixture'
}
resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2025-04-15' existing = {
  parent: account
  name: 'helpdesk'
}
resource tickets 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2025-04-15' = {
  parent: database
  name: 'tickets'
  properties: {
    resource: {
      id: 'tickets'
      indexingPolicy: loadJsonContent('schema/misspelt-indexing-policy.json')
      partitionKey: { paths: ['/ticketId'] }
    }
  }
}
`),
    );

    expect(codes(problems)).toEqual(["unknown-property@14"]);
    expect(problems[0]?.message).toMatch(/indexingPolicy\.includedPath' .*did you mean 'includedPaths'/);
  });

  it("checks the Communication Services resources of the requester emails against their schema", async () => {
    const problems = check(
      await inline(`resource email 'Microsoft.Communication/emailServices@2025-09-01' = {
  name: 'ecs-fixture'
  location: 'global'
  properties: {}
}
resource domain 'Microsoft.Communication/emailServices/domains@2025-09-01' = {
  parent: email
  name: 'AzureManagedDomain'
  location: 'global'
  properties: {
    domainManagement: 'AzureManaged'
    mailFromSenderDomain: 'example.azurecomm.net'
    userEngagementTracking: 'Disabled'
  }
}
resource communication 'Microsoft.Communication/communicationServices@2025-09-01' = {
  name: 'acs-fixture'
  location: 'global'
  properties: {
    dataLocation: 'Europe'
    linkedDomain: [
      domain.id
    ]
    disableLocalAuth: true
  }
}
`),
    );

    expect(codes(problems), describeProblems(problems)).toEqual(["missing-required@4", "read-only@12", "unknown-property@21"]);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^Microsoft\.Communication\/emailServices@2025-09-01: properties: required property 'dataLocation' is missing/),
      expect.stringMatching(/'properties\.mailFromSenderDomain' is read-only/),
      expect.stringMatching(/'properties\.linkedDomain' is not a property .*did you mean 'linkedDomains'/),
    ]);
  });

  it("reports a parent whose type is not the child's parent type", async () => {
    const problems = check(
      await inline(`resource account 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: 'stfixture'
}
resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: account
  name: 'escalations'
}
`),
    );

    expect(codes(problems)).toEqual(["parent-type@5"]);
  });

  it("reports writing a read-only top-level property and a value of the wrong type", async () => {
    const problems = check(
      await inline(
        namespace(`{
  name: 'a'
  id: '/subscriptions/x'
  location: 'westeurope'
  sku: { name: 'Standard' }
  properties: { disableLocalAuth: 'yes' }
}
`),
      ),
    );

    expect(codes(problems)).toEqual(["read-only@3", "type-mismatch@6"]);
  });
});
