import { describe, expect, it } from "vitest";
import { sortProblems } from "../../infra/verify/problems.js";
import { checkSecurity, INVARIANTS } from "../../infra/verify/security.js";
import { codes, describeProblems, fixture, inline } from "./support.js";

describe("infra check: security invariants", () => {
  it.each([
    ["local-auth-on.bicep", "local-auth@12", /disableLocalAuth is false, must be true/],
    ["https-only-off.bicep", "https-only@7", /httpsOnly is false, must be true/],
    ["tls-1-0.bicep", "tls@11", /minimumTlsVersion is 'TLS1_0', must be 'TLS1_2' or 'TLS1_3'/],
    [
      "email-local-auth-on.bicep",
      "local-auth@11",
      /email: properties.disableLocalAuth is false, must be true \(access keys must not send email\)/,
    ],
  ])("reports exactly the problem planted in %s", async (name, expected, message) => {
    const problems = checkSecurity([await fixture("security", name)]);

    expect(codes(problems), describeProblems(problems)).toEqual([expected]);
    expect(problems[0]?.message).toMatch(message);
  });

  it("reports keys read with listKeys() and a @secure() parameter echoed in an output", async () => {
    const problems = checkSecurity([await fixture("security", "secret-output.bicep")]);
    const messages = problems.map((p) => `${p.code}@${p.line} ${p.message}`);

    expect(
      problems.every((p) => p.code === "secret"),
      describeProblems(problems),
    ).toBe(true);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^secret@9 listKeys\(\) reads keys/),
        expect.stringMatching(/^secret@9 output 'storageKey' calls listKeys\(\)/),
        expect.stringMatching(/^secret@10 output 'webhook' carries @secure\(\) parameter 'webhookUrl'/),
      ]),
    );
  });

  it.each(INVARIANTS.filter((rule) => !rule.optional).map((rule) => [rule.type, rule.path.join("."), rule.code] as const))(
    "requires %s %s to be set (%s)",
    async (type, setting, code) => {
      const problems = checkSecurity([await inline(`resource x '${type}@2020-01-01' = {\n  name: 'x'\n}\n`)]);

      expect(
        problems.filter((p) => p.code === code && p.message.includes(setting)),
        describeProblems(problems),
      ).toHaveLength(1);
    },
  );

  it("reports a storage account open to anonymous reads or to plain HTTP, whichever account it is", async () => {
    const problems = checkSecurity([
      await inline(`resource files 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: 'stfiles'
  properties: {
    allowSharedKeyAccess: false
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: true
    supportsHttpsTrafficOnly: false
  }
}
resource host 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: 'sthost'
  properties: {
    allowSharedKeyAccess: true
    minimumTlsVersion: 'TLS1_2'
  }
}
`),
    ]);

    expect(codes(problems), describeProblems(problems)).toEqual(["public-access@6", "https-only@7", "local-auth@13", "public-access@10"]);
    expect(problems.map((p) => p.message)).toEqual([
      "files: properties.allowBlobPublicAccess is true, must be false (no container may be opened to anonymous reads)",
      "files: properties.supportsHttpsTrafficOnly is false, must be true (plain HTTP requests must be refused)",
      "host: properties.allowSharedKeyAccess is true, must be false (account keys and SAS must not grant access)",
      "host: properties.allowBlobPublicAccess must be set to false (no container may be opened to anonymous reads)",
    ]);
  });

  it("refuses a setting left to a parameter, and checks both branches of a ternary", async () => {
    const problems = checkSecurity([
      await inline(`param localAuthOff bool
param strict bool
resource bus 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: 'sb'
  properties: {
    disableLocalAuth: localAuthOff
    minimumTlsVersion: strict ? '1.2' : '1.0'
  }
}
`),
    ]);

    expect(codes(problems)).toEqual(["local-auth@6", "tls@7"]);
    expect(problems[0]?.message).toMatch(/must be the literal true, not an expression/);
  });

  it("follows variables to the literal they hold", async () => {
    const problems = checkSecurity([
      await inline(`var busProperties = {
  disableLocalAuth: true
  minimumTlsVersion: '1.2'
}
resource bus 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: 'sb'
  properties: busProperties
}
`),
    ]);

    expect(problems).toEqual([]);
  });

  it("accepts Key Vault references and the Application Insights connection string in app settings, and nothing else secret", async () => {
    const problems = sortProblems(
      checkSecurity([
        await inline(`@secure()
param pagerDutyKey string
param secretUri string
resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: 'appi'
}
resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: 'st'
}
resource app 'Microsoft.Web/sites@2024-11-01' = {
  name: 'func'
  properties: {
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'PAGERDUTY_ROUTING_KEY', value: empty(secretUri) ? '' : '@Microsoft.KeyVault(SecretUri=\${secretUri})' }
        { name: 'PAGERDUTY_PLAIN', value: pagerDutyKey }
        { name: 'AzureWebJobsStorage', value: 'DefaultEndpointsProtocol=https;AccountName=st;AccountKey=\${storage.properties.primaryEndpoints.blob}' }
        { name: 'COSMOS_KEY', value: 'not-from-key-vault' }
      ]
    }
  }
}
`),
      ]),
    );

    expect(codes(problems), describeProblems(problems)).toEqual(["secret@19", "secret@20", "secret@20", "secret@21"]);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/PAGERDUTY_PLAIN carries @secure\(\) parameter 'pagerDutyKey'/),
      expect.stringMatching(/AzureWebJobsStorage contains credential text/),
      expect.stringMatching(/credential is written in the template/),
      expect.stringMatching(/COSMOS_KEY looks like a credential but is not a Key Vault reference/),
    ]);
  });

  it("reports a secure value passed to a module parameter that is not @secure()", async () => {
    const problems = checkSecurity([
      await fixture("contract", "app.bicep"),
      await inline(`@secure()
param token string
module app 'contract/app.bicep' = {
  name: 'app'
  params: {
    endpoint: token
  }
}
`),
    ]);

    expect(codes(problems)).toEqual(["secret@6"]);
    expect(problems[0]?.message).toMatch(/'endpoint' carries @secure\(\) parameter 'token' but the parameter is not @secure\(\)/);
  });
});
