import { describe, expect, it } from "vitest";
import { infraProblems, kinds, replace, withoutResource, type Edit } from "./edited.js";
import { describeProblems } from "./support.js";

/**
 * The attachments' storage account (issue 13) as infra/ deploys it, broken one way at a time:
 * each change below is one a careless edit could make, and the checks must report exactly it.
 * The edits are made in memory to the committed files (edited.ts).
 */

const ATTACHMENTS = "modules/attachments.bicep";
const FUNCTION_APP = "modules/functionapp.bicep";

describe("infra/ attachments: each way to break them is reported", () => {
  it("reports nothing as committed (so that every problem below comes from its edit)", async () => {
    const problems = await infraProblems();

    expect(problems, describeProblems(problems)).toEqual([]);
  });

  it.each<[string, Record<string, Edit>, string[], RegExp]>([
    [
      "the account allows shared keys",
      { [ATTACHMENTS]: replace("allowSharedKeyAccess: false", "allowSharedKeyAccess: true") },
      ["attachments.bicep security/local-auth"],
      /account: properties.allowSharedKeyAccess is true, must be false/,
    ],
    [
      "the account allows anonymous reads",
      { [ATTACHMENTS]: replace("allowBlobPublicAccess: false", "allowBlobPublicAccess: true") },
      ["attachments.bicep security/public-access"],
      /allowBlobPublicAccess is true, must be false/,
    ],
    [
      "the account accepts TLS 1.0",
      { [ATTACHMENTS]: replace("minimumTlsVersion: 'TLS1_2'", "minimumTlsVersion: 'TLS1_0'") },
      ["attachments.bicep security/tls"],
      /minimumTlsVersion is 'TLS1_0'/,
    ],
    [
      "the Storage Blob Delegator role is missing (the Contributor role, on the container, does not give the account's key)",
      { [ATTACHMENTS]: withoutResource("delegatorRole") },
      ["attachments.bicep contract/attachments-role"],
      /cannot get the user delegation key that signs every SAS .*generateUserDelegationKey\/action on the account or the resource group \(contributorRole grants it on the container only/,
    ],
    [
      "the Storage Blob Data Contributor role is missing",
      { [ATTACHMENTS]: withoutResource("contributorRole") },
      [
        "attachments.bicep contract/attachments-role",
        "attachments.bicep contract/attachments-role",
        "attachments.bicep contract/attachments-role",
      ],
      /cannot read an upload's size and first bytes, or sign download SAS/,
    ],
    [
      "nothing lets the app read the scan result (index tags)",
      { [ATTACHMENTS]: withoutResource("scanResultReaderRole") },
      ["attachments.bicep contract/attachments-role"],
      /cannot read the malware scan result \(blob index tags\).*blobs\/tags\/read/,
    ],
    [
      "the Contributor role is given to another principal than the app's identity",
      {
        [ATTACHMENTS]: replace(
          "principalId: appPrincipalId\n    principalType: 'ServicePrincipal'\n  }\n}\n\nresource delegatorRole",
          "principalId: '11111111-1111-1111-1111-111111111111'\n    principalType: 'ServicePrincipal'\n  }\n}\n\nresource delegatorRole",
        ),
      },
      [
        "attachments.bicep contract/attachments-role",
        "attachments.bicep contract/attachments-role",
        "attachments.bicep contract/attachments-role",
      ],
      /to the identity in AZURE_CLIENT_ID/,
    ],
    [
      "the app is given Storage Blob Data Owner, more than the code needs",
      {
        [ATTACHMENTS]: replace(
          "var blobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'",
          "var blobDataContributorRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'",
        ),
      },
      ["attachments.bicep contract/storage-role"],
      /contributorRole: Storage Blob Data Owner on the attachments account .* which needs only Storage Blob Data Contributor and Storage Blob Delegator/,
    ],
    [
      "the Defender for Storage settings are missing",
      { [ATTACHMENTS]: withoutResource("defender") },
      ["attachments.bicep contract/attachments-scanning"],
      /no Defender for Storage settings \(Microsoft.Security\/defenderForStorageSettings, scope: the account\)/,
    ],
    [
      "malware scanning on upload is off",
      { [ATTACHMENTS]: replace("      onUpload: {\n        isEnabled: true", "      onUpload: {\n        isEnabled: false") },
      ["attachments.bicep contract/attachments-scanning"],
      /malware scanning on upload must be on/,
    ],
    [
      "Defender for Storage is off",
      { [ATTACHMENTS]: replace("  properties: {\n    isEnabled: true", "  properties: {\n    isEnabled: false") },
      ["attachments.bicep contract/attachments-scanning"],
      /Defender for Storage must be on \(properties.isEnabled: true\)/,
    ],
    [
      "scan results are not written as blob index tags",
      { [ATTACHMENTS]: replace("blobScanResultsOptions: 'blobIndexTags'", "blobScanResultsOptions: 'None'") },
      ["attachments.bicep contract/attachments-scanning"],
      /scan results must be written as blob index tags .*found 'None'/,
    ],
    [
      "ATTACHMENTS_ACCOUNT_URL is not set on the app",
      { [FUNCTION_APP]: replace("  { name: 'ATTACHMENTS_ACCOUNT_URL', value: attachmentsAccountUrl }\n", "") },
      ["functionapp.bicep contract/missing-setting"],
      /app setting ATTACHMENTS_ACCOUNT_URL is not set, but the code needs it in Azure/,
    ],
    [
      "ATTACHMENTS_CONTAINER is not set on the app",
      { [FUNCTION_APP]: replace("  { name: 'ATTACHMENTS_CONTAINER', value: attachmentsContainerName }\n", "") },
      ["functionapp.bicep contract/missing-setting"],
      /app setting ATTACHMENTS_CONTAINER is not set/,
    ],
    [
      "ATTACHMENTS_ACCOUNT_URL is the host's storage account",
      {
        "main.bicep": replace(
          "attachmentsAccountUrl: attachments.outputs.accountUrl",
          "attachmentsAccountUrl: storage.outputs.blobEndpoint",
        ),
      },
      ["functionapp.bicep contract/attachments-account"],
      /ATTACHMENTS_ACCOUNT_URL leads to the Functions host's storage account .*attachments need an account of their own/,
    ],
    [
      "ATTACHMENTS_ACCOUNT_URL is an account this deployment does not create",
      {
        "main.bicep": replace(
          "attachmentsAccountUrl: attachments.outputs.accountUrl",
          "attachmentsAccountUrl: 'https://elsewhere.blob.core.windows.net'",
        ),
      },
      ["functionapp.bicep contract/attachments-account"],
      /does not lead to a storage account this deployment creates/,
    ],
    [
      "the lifecycle rule is missing",
      { [ATTACHMENTS]: withoutResource("lifecycle") },
      ["attachments.bicep contract/attachments-lifecycle"],
      /must delete uploads never attached after 1 day .*no enabled lifecycle rule deletes block blobs under 'attachments\/uploads\/'/,
    ],
    [
      "the lifecycle rule is off",
      {
        [ATTACHMENTS]: replace(
          "          enabled: true\n          type: 'Lifecycle'",
          "          enabled: false\n          type: 'Lifecycle'",
        ),
      },
      ["attachments.bicep contract/attachments-lifecycle"],
      /no enabled lifecycle rule deletes block blobs under 'attachments\/uploads\/'/,
    ],
    [
      "the lifecycle rule waits a week",
      { [ATTACHMENTS]: replace("daysAfterModificationGreaterThan: 1", "daysAfterModificationGreaterThan: 7") },
      ["attachments.bicep contract/attachments-lifecycle"],
      /its rule for 'attachments\/uploads\/' deletes them after 7 days, not after 1/,
    ],
    [
      "the lifecycle rule takes in the attachments too",
      { [ATTACHMENTS]: replace("'${containerName}/${uploadsPrefix}'", "'${containerName}/'") },
      ["attachments.bicep contract/attachments-lifecycle"],
      /deletes blobs under 'attachments\/', which takes in attachments \(attachments\/files\/\)/,
    ],
    [
      "soft delete is off",
      { [ATTACHMENTS]: replace("    deleteRetentionPolicy: {\n      enabled: true", "    deleteRetentionPolicy: {\n      enabled: false") },
      ["attachments.bicep contract/attachments-soft-delete"],
      /must keep deleted blobs a while/,
    ],
    [
      "the CORS rule is for other origins than the API's",
      { [ATTACHMENTS]: replace("allowedOrigins: corsAllowedOrigins", "allowedOrigins: ['https://elsewhere.example.com']") },
      ["attachments.bicep contract/attachments-cors"],
      /no CORS rule of the attachments account .* allows the origins in CORS_ALLOWED_ORIGINS/,
    ],
    [
      "the CORS rule leaves out PUT, and the x-ms- headers but metadata",
      {
        [ATTACHMENTS]: (source) =>
          replace("            'x-ms-*'\n", "            'x-ms-meta-*'\n")(replace("            'PUT'\n", "")(source)),
      },
      ["attachments.bicep contract/attachments-cors", "attachments.bicep contract/attachments-cors"],
      /must allow PUT [^]*must allow the headers x-ms-blob-type, x-ms-version/,
    ],
    [
      "the container is not the one ATTACHMENTS_CONTAINER names",
      {
        [FUNCTION_APP]: replace(
          "{ name: 'ATTACHMENTS_CONTAINER', value: attachmentsContainerName }",
          "{ name: 'ATTACHMENTS_CONTAINER', value: 'files' }",
        ),
      },
      // The roles on the container and the lifecycle rule are for `attachments`, not `files`.
      [
        "attachments.bicep contract/attachments-role",
        "attachments.bicep contract/attachments-role",
        "attachments.bicep contract/attachments-role",
        "attachments.bicep contract/attachments-role",
        "attachments.bicep contract/attachments-container",
        "attachments.bicep contract/attachments-lifecycle",
      ],
      /cannot read an upload's size/,
    ],
    [
      "the host's account gets a Blob Data role only the attachments need",
      {
        "modules/storage.bicep": replace(
          "  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'\n",
          "  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'\n  // Storage Blob Data Contributor: the attachments.\n  blobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'\n",
        ),
      },
      ["storage.bicep contract/storage-role"],
      /storageRoles: Storage Blob Data Contributor on the Functions host's account .* which needs only Storage Blob Data Owner and Storage Table Data Contributor/,
    ],
  ])("when %s", async (_, edits, expected, message) => {
    const problems = await infraProblems(edits);

    expect(kinds(problems), describeProblems(problems)).toEqual(expected);
    expect(problems.map((p) => p.message).join("\n")).toMatch(message);
  });
});
