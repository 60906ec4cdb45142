import { describe, expect, it } from "vitest";
import { infraProblems, kinds, replace, withoutResource, type Edit } from "./edited.js";
import { describeProblems } from "./support.js";

/**
 * What infra/ deploys for issue "Tell the requester" (the notifications queue, Communication
 * Services and its email domain, the app's right to send, the settings), broken one way at a time
 * in memory (edited.ts): the checks must report exactly each break.
 */

const EMAIL = "modules/email.bicep";
const SERVICE_BUS = "modules/servicebus.bicep";
const FUNCTION_APP = "modules/functionapp.bicep";

describe("infra/ notifications: each way to break them is reported", () => {
  it("reports nothing as committed (so that every problem below comes from its edit)", async () => {
    const problems = await infraProblems();

    expect(problems, describeProblems(problems)).toEqual([]);
  });

  it.each<[string, Record<string, Edit>, string[], RegExp]>([
    [
      "the Communication Services resource keeps its access keys",
      { [EMAIL]: replace("disableLocalAuth: true", "disableLocalAuth: false") },
      ["email.bicep security/local-auth"],
      /communicationService: properties.disableLocalAuth is false, must be true/,
    ],
    [
      "the domain is not linked (so no email can be sent, from the sender's domain or any)",
      { [EMAIL]: replace("    linkedDomains: [\n      domain.id\n    ]\n", "") },
      ["email.bicep contract/email-domain", "functionapp.bicep contract/email-sender"],
      /links no email domain this deployment creates[^]*EMAIL_SENDER is an address on the domain 'AzureManagedDomain', which the Communication Services resource .* does not link/,
    ],
    [
      "the email service keeps its data elsewhere than the Communication Services resource",
      {
        [EMAIL]: replace(
          "  properties: {\n    dataLocation: dataLocation\n  }\n}",
          "  properties: {\n    dataLocation: 'United States'\n  }\n}",
        ),
      },
      ["email.bicep contract/email-data-location"],
      /keeps its data in 'Europe' and the email service .* in 'United States'/,
    ],
    [
      "the app's identity is not given the right to send",
      { [EMAIL]: withoutResource("appEmailSender") },
      ["email.bicep contract/email-role"],
      /the app cannot send email through .*: no role assignment made unconditionally to the identity in AZURE_CLIENT_ID grants/,
    ],
    [
      "the right to send is given to another principal",
      {
        [EMAIL]: replace(
          "    roleDefinitionId: emailSender.id\n    principalId: appPrincipalId",
          "    roleDefinitionId: emailSender.id\n    principalId: '11111111-1111-1111-1111-111111111111'",
        ),
      },
      ["email.bicep contract/email-role"],
      /\(appEmailSender grants it to another principal\)/,
    ],
    [
      "the custom role leaves out EmailServices/write",
      { [EMAIL]: replace("          'Microsoft.Communication/EmailServices/write'\n", "") },
      ["email.bicep contract/email-role"],
      /grants Microsoft.Communication\/EmailServices\/write on it or the resource group$/,
    ],
    [
      "the app is given the built-in Communication and Email Service Owner, more than sending needs",
      {
        [EMAIL]: replace(
          "roleDefinitionId: emailSender.id",
          "roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '09976791-48a7-449e-bb21-39d1a415f350')",
        ),
      },
      ["email.bicep contract/email-role"],
      /appEmailSender: Communication and Email Service Owner also lets the app read its access keys, regenerate its access keys, delete it/,
    ],
    [
      "EMAIL_ENDPOINT is the host name without https://",
      {
        [EMAIL]: replace(
          "output endpoint string = 'https://${communicationService.properties.hostName}'",
          "output endpoint string = communicationService.properties.hostName",
        ),
      },
      ["functionapp.bicep contract/email-endpoint"],
      /EMAIL_ENDPOINT must be the https endpoint of/,
    ],
    [
      "EMAIL_ENDPOINT is not set on the app",
      { [FUNCTION_APP]: replace("  { name: 'EMAIL_ENDPOINT', value: emailEndpoint }\n", "") },
      ["functionapp.bicep contract/missing-setting"],
      /app setting EMAIL_ENDPOINT is not set, but the code needs it in Azure/,
    ],
    [
      "EMAIL_SENDER is not set on the app",
      { [FUNCTION_APP]: replace("  { name: 'EMAIL_SENDER', value: emailSender }\n", "") },
      ["functionapp.bicep contract/missing-setting"],
      /app setting EMAIL_SENDER is not set, but the code needs it in Azure/,
    ],
    [
      "EMAIL_CONNECTION_STRING is set on the app (a Key Vault reference, even)",
      {
        [FUNCTION_APP]: replace(
          "  { name: 'EMAIL_SENDER', value: emailSender }\n",
          "  { name: 'EMAIL_SENDER', value: emailSender }\n  { name: 'EMAIL_CONNECTION_STRING', value: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/email)' }\n",
        ),
      },
      ["functionapp.bicep contract/refused-setting"],
      /EMAIL_CONNECTION_STRING is set, but the code refuses it in Azure/,
    ],
    [
      "the notifications queue is named otherwise",
      { [SERVICE_BUS]: replace("  name: notificationsQueueName\n", "  name: 'notification'\n") },
      // The setting follows the queue's name, so it names the wrong queue too.
      ["functionapp.bicep contract/queue-name", "servicebus.bicep contract/queue-name"],
      /NOTIFICATIONS_QUEUE_NAME is 'notification', the code's Service Bus queue is 'notifications'[^]*no Service Bus queue named 'notifications' \(the code's name\); found: escalations, ticket-timers, ticket-commands, notification$/,
    ],
    [
      "the notifications queue drops no duplicates",
      {
        [SERVICE_BUS]: (source) => {
          const at = source.indexOf("resource notificationsQueue ");
          return source.slice(0, at) + replace("requiresDuplicateDetection: true", "requiresDuplicateDetection: false")(source.slice(at));
        },
      },
      ["servicebus.bicep contract/duplicate-detection"],
      /queue 'notifications' must set requiresDuplicateDetection: true/,
    ],
    [
      "the app may not receive from the notifications queue",
      { [SERVICE_BUS]: withoutResource("notificationsAppReceiver") },
      ["servicebus.bicep contract/queue-role"],
      /the app cannot receive from queue 'notifications'/,
    ],
    [
      "NOTIFICATIONS_QUEUE_NAME is not set on the app",
      { [FUNCTION_APP]: replace("  { name: 'NOTIFICATIONS_QUEUE_NAME', value: notificationsQueueName }\n", "") },
      ["functionapp.bicep contract/missing-setting"],
      /app setting NOTIFICATIONS_QUEUE_NAME is not set/,
    ],
  ])("when %s", async (_, edits, expected, message) => {
    const problems = await infraProblems(edits);

    expect(kinds(problems), describeProblems(problems)).toEqual(expected);
    expect(problems.map((p) => p.message).join("\n")).toMatch(message);
  });
});
