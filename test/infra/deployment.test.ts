import { describe, expect, it } from "vitest";
import { ATTACHMENT_STORAGE_ROLES, checkDeployment, HOST_STORAGE_ROLES, STORAGE_ROLES } from "../../infra/verify/deployment.js";
import { sortProblems } from "../../infra/verify/problems.js";
import { codes, describeProblems, fixture, inline } from "./support.js";

/**
 * What a Flex Consumption deployment needs beyond the schemas (infra/verify/deployment.ts):
 * each fixture plants one mistake, and the check must report exactly it.
 */
const check = async (...names: string[]) => sortProblems(checkDeployment(await Promise.all(names.map((n) => fixture("deployment", n)))));

describe("infra check: deploying to Flex Consumption", () => {
  it("passes a Flex app as it should be", async () => {
    const problems = await check("flex-app.bicep");

    expect(problems, describeProblems(problems)).toEqual([]);
  });

  it("reports Cosmos DB role assignments made in parallel, or before the containers", async () => {
    const problems = await check("parallel-cosmos-roles.bicep");

    expect(codes(problems), describeProblems(problems)).toEqual(["cosmos-role-order@36", "cosmos-role-order@46"]);
    expect(problems[0]?.message).toMatch(/appRole must depend on the containers \(ticketsContainer\)/);
    expect(problems[1]?.message).toMatch(/developerRole must depend on appRole/);
  });

  it("accepts role assignments chained after the containers, directly or through another resource", async () => {
    const problems = checkDeployment([
      await inline(`resource account 'Microsoft.DocumentDB/databaseAccounts@2025-04-15' existing = {
  name: 'cosmos'
}
resource container 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2025-04-15' = {
  name: 'cosmos/helpdesk/tickets'
}
resource first 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-04-15' = {
  parent: account
  name: guid(container.id)
}
resource second 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-04-15' = if (true) {
  parent: account
  name: 'second'
  dependsOn: [
    first
  ]
}
`),
    ]);

    expect(problems, describeProblems(problems)).toEqual([]);
  });

  it("reports a loop of Cosmos DB role assignments, which runs in parallel", async () => {
    const problems = checkDeployment([
      await inline(`param principals array
resource roles 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-04-15' = [for p in principals: {
  name: 'cosmos/\${guid(p)}'
}]
`),
    ]);

    expect(codes(problems)).toEqual(["cosmos-role-order@2"]);
    expect(problems[0]?.message).toMatch(/runs in parallel/);
  });

  it("reports a maximumInstanceCount that may be below 40", async () => {
    const problems = await check("instance-floor.bicep");

    expect(codes(problems), describeProblems(problems)).toEqual(["flex-instance-floor@19"]);
    expect(problems[0]?.message).toMatch(/parameter 'maximumInstanceCount', which allows 1 and up; Flex Consumption refuses less than 40/);
  });

  it("reports a caller that passes the module less than 40, or a parameter without the floor", async () => {
    const problems = sortProblems(
      checkDeployment([
        await fixture("deployment", "flex-app.bicep"),
        await inline(`@minValue(1)
param instances int = 40
module low 'deployment/flex-app.bicep' = {
  name: 'low'
  params: {
    maximumInstanceCount: 39
  }
}
module unbounded 'deployment/flex-app.bicep' = {
  name: 'unbounded'
  params: {
    maximumInstanceCount: instances
  }
}
module fine 'deployment/flex-app.bicep' = {
  name: 'fine'
  params: {
    maximumInstanceCount: 100
  }
}
`),
      ]),
    );

    expect(codes(problems), describeProblems(problems)).toEqual(["flex-instance-floor@6", "flex-instance-floor@12"]);
    expect(problems[0]?.message).toMatch(/module low: 'maximumInstanceCount' is 39/);
    expect(problems[1]?.message).toMatch(/parameter 'instances', which allows 1 and up/);
  });

  it("reports ftpsState and an `ftp` publishing policy, which Flex Consumption does not support", async () => {
    const problems = await check("ftp.bicep");

    expect(codes(problems), describeProblems(problems)).toEqual(["flex-unsupported@8", "flex-unsupported@24"]);
    expect(problems[0]?.message).toMatch(/ftpsState is not supported on Flex Consumption/);
    expect(problems[1]?.message).toMatch(/ftpCredentials: the 'ftp' publishing policy is not supported/);
  });

  it("reports NODE_OPTIONS without --enable-source-maps, and a Flex app without NODE_OPTIONS", async () => {
    const problems = await check("no-source-maps.bicep");

    expect(codes(problems), describeProblems(problems)).toEqual(["source-maps@9"]);
    expect(problems[0]?.message).toMatch(/NODE_OPTIONS must include --enable-source-maps, found '--max-old-space-size=1536'/);

    const missing = checkDeployment([
      await inline(`resource app 'Microsoft.Web/sites@2024-11-01' = {
  name: 'func'
  properties: {
    functionAppConfig: {}
  }
}
`),
    ]);
    expect(codes(missing)).toEqual(["source-maps@1"]);

    const inConfigResource = checkDeployment([
      await inline(`resource app 'Microsoft.Web/sites@2024-11-01' = {
  name: 'func'
  properties: {
    functionAppConfig: {}
  }
}
resource settings 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: app
  name: 'appsettings'
  properties: {
    NODE_OPTIONS: '--enable-source-maps --max-old-space-size=1536'
  }
}
`),
    ]);
    expect(inConfigResource, describeProblems(inConfigResource)).toEqual([]);
  });

  it("reports a storage role neither the host nor the attachments need, and a needed one without a comment saying why", async () => {
    const problems = await check("storage-roles.bicep");

    expect(codes(problems), describeProblems(problems)).toEqual(["storage-role@8", "storage-role@9"]);
    expect(problems[0]?.message).toMatch(/Storage Queue Data Contributor is not a role the Functions host or the attachments need/);
    expect(problems[1]?.message).toMatch(/Storage Blob Data Owner: say in a comment beside it what it is needed for/);
  });

  it("allows only storage roles it knows, each with the reason the host or the attachments need it", () => {
    for (const id of [...Object.keys(HOST_STORAGE_ROLES), ...Object.keys(ATTACHMENT_STORAGE_ROLES)])
      expect(STORAGE_ROLES[id]).toBeDefined();
    expect(Object.keys(HOST_STORAGE_ROLES).map((id) => STORAGE_ROLES[id])).toEqual([
      "Storage Blob Data Owner",
      "Storage Table Data Contributor",
    ]);
    expect(Object.keys(ATTACHMENT_STORAGE_ROLES).map((id) => STORAGE_ROLES[id])).toEqual([
      "Storage Blob Data Contributor",
      "Storage Blob Delegator",
    ]);
  });
});
