import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BINDING_CONNECTIONS, envSchema, loadConfig, requiredInAzure } from "../../shared/app/config.js";
import { checkContract, codeContract, REQUIRED_CONNECTIONS } from "../../infra/verify/contract.js";
import { instantiate } from "../../infra/verify/modules.js";
import { loadBicepFiles, type BicepFile } from "../../infra/verify/parse.js";
import { codes, describeProblems, fixturesDir, inline, repoRoot } from "./support.js";

const contractDir = path.join(fixturesDir, "contract");

/** The contract problems of a deployment whose entry is `entry`, with the contract fixtures (and `modules`) as modules. */
async function contractProblems(entry: string | BicepFile, modules: BicepFile[] = []) {
  const files = [...(await loadBicepFiles(contractDir)), ...modules];
  const root = typeof entry === "string" ? files.find((f) => f.path === path.join(contractDir, entry)) : entry;
  if (!root) throw new Error(`no fixture ${typeof entry === "string" ? entry : entry.path}`);
  return checkContract(instantiate(root, [...files, root]), codeContract(repoRoot));
}

/** A module of the contract fixtures whose queue roles go to `principal` (by default the app's identity). */
function queueModule(symbol: string, file: string, params = "", principal = "identity.outputs.principalId") {
  return `module ${symbol} 'contract/${file}' = {
  name: '${symbol}'
  params: {
    appPrincipalId: ${principal}
${params}  }
}`;
}

/** The attachments' account, its roles for `principal` (by default the app's identity), with `params`. */
function attachmentsModule(params = "", principal = "identity.outputs.principalId") {
  return `module attachments 'contract/attachments.bicep' = {
  name: 'attachments'
  params: {
    appPrincipalId: ${principal}
${params}  }
}`;
}

/** Every queue, each with the app's roles. */
const QUEUES = queueModule("queue", "queue.bicep");

/** A queue of the code's besides escalations, and its fixture (the queue with the app's roles, duplicate detection a parameter). */
interface FixtureQueue {
  name: string;
  setting: string;
  symbol: string;
  file: string;
}
const TIMERS: FixtureQueue = { name: "ticket-timers", setting: "TIMER_QUEUE_NAME", symbol: "timers", file: "timers-queue.bicep" };
const COMMANDS: FixtureQueue = {
  name: "ticket-commands",
  setting: "TICKET_COMMANDS_QUEUE_NAME",
  symbol: "commands",
  file: "commands-queue.bicep",
};
const NOTIFICATIONS: FixtureQueue = {
  name: "notifications",
  setting: "NOTIFICATIONS_QUEUE_NAME",
  symbol: "notifications",
  file: "notifications-queue.bicep",
};
/** The queues each test of "the queues" breaks one way at a time, leaving the others whole. */
const TICKET_QUEUES = [TIMERS, COMMANDS, NOTIFICATIONS];

/** The other ones of TICKET_QUEUES, in their order. */
const restOf = (queue: FixtureQueue) => TICKET_QUEUES.filter((q) => q !== queue);

/** Every queue but `queue`, each with the app's roles: the escalations queue, then the others of TICKET_QUEUES. */
function othersThan(queue: FixtureQueue): string {
  return [queueModule("escalations", "escalations-queue.bicep"), ...restOf(queue).map((q) => queueModule(q.symbol, q.file))].join("\n");
}

/** The line (1-based) of an inline template that first contains `text`. */
function lineIn(file: BicepFile, text: string): number {
  const index = file.source.split("\n").findIndex((line) => line.includes(text));
  if (index < 0) throw new Error(`no ${text} in ${file.path}`);
  return index + 1;
}

/** The line (1-based) of a contract fixture that first contains `text`. */
function lineOf(fixtureName: string, text: string): number {
  const index = readFileSync(path.join(contractDir, fixtureName), "utf8")
    .split("\n")
    .findIndex((line) => line.includes(text));
  if (index < 0) throw new Error(`no ${text} in ${fixtureName}`);
  return index + 1;
}

/** The requester emails' resources (`file`, by default the correct half), the right to send given to `principal` (by default the app's identity). */
function emailModule(file = "email.bicep", principal = "identity.outputs.principalId") {
  return `module email 'contract/${file}' = {
  name: 'email'
  params: {
    appPrincipalId: ${principal}
  }
}`;
}

/**
 * A deployment made of the correct halves, the app, its queue roles, its attachments' roles and
 * its right to send email sharing one identity, plus `extra` Bicep; `app`, `queues`,
 * `attachments` and `email` replace those halves.
 */
function complete({
  extra = "",
  app = "app.bicep",
  queues = QUEUES,
  attachments = attachmentsModule(),
  email = emailModule(),
}: { extra?: string; app?: string; queues?: string; attachments?: string; email?: string } = {}) {
  return inline(`module identity 'contract/identity.bicep' = {
  name: 'identity'
}
module app 'contract/${app}' = {
  name: 'app'
  params: {
    identityClientId: identity.outputs.clientId
  }
}
module data 'contract/data.bicep' = {
  name: 'data'
}
${queues}
${extra}
${attachments}
${email}`);
}

/** A contract fixture changed by `edit`, as another module of the contract fixtures named `name`. */
async function edited(fixtureName: string, edit: (source: string) => string, name: string): Promise<BicepFile> {
  const source = readFileSync(path.join(contractDir, fixtureName), "utf8");
  const changed = edit(source);
  if (changed === source) throw new Error(`the edit changes nothing in ${fixtureName}`);
  return inline(changed, path.join("contract", name));
}

/** Without the lines matching `pattern`. */
const dropLines = (pattern: RegExp) => (source: string) =>
  source
    .split("\n")
    .filter((line) => !pattern.test(line))
    .join("\n");

describe("infra check: the contract with the code", () => {
  it("reads what it checks from the code", () => {
    const contract = codeContract(repoRoot);

    expect(contract.requiredSettings).toEqual(expect.arrayContaining([...requiredInAzure]));
    expect(contract.database).toEqual({ name: "helpdesk", setting: "COSMOS_DATABASE_NAME" });
    expect(contract.containers.map((c) => c.name)).toEqual(["tickets", "leases"]);
    expect(contract.queues.map((q) => [q.name, q.setting])).toEqual([
      ["escalations", "ESCALATION_QUEUE_NAME"],
      ["ticket-timers", "TIMER_QUEUE_NAME"],
      ["ticket-commands", "TICKET_COMMANDS_QUEUE_NAME"],
      ["notifications", "NOTIFICATIONS_QUEUE_NAME"],
    ]);
    expect(contract.requiredSettings).toEqual(
      expect.arrayContaining(["ESCALATION_QUEUE_NAME", "TIMER_QUEUE_NAME", "TICKET_COMMANDS_QUEUE_NAME", "NOTIFICATIONS_QUEUE_NAME"]),
    );
    for (const queue of contract.queues) {
      // The setting is the one the code reads the queue's name from: its default is the name.
      const setting = envSchema.shape[queue.setting as keyof typeof envSchema.shape];
      expect(setting.parse(undefined), queue.setting).toBe(queue.name);
      expect(Object.keys(queue.access).sort(), queue.name).toEqual(["receive", "send"]);
    }
    expect(REQUIRED_CONNECTIONS.map((c) => c.prefix)).toEqual(["AzureWebJobsStorage", "CosmosDBConnection", "ServiceBusConnection"]);
    // Settings the code reads with a default, or as optional, that infra/ must set all the same.
    expect(contract.requiredSettings).toEqual(expect.arrayContaining(["ATTACHMENTS_ACCOUNT_URL", "ATTACHMENTS_CONTAINER"]));
    for (const setting of [contract.attachments.urlSetting, contract.attachments.containerSetting]) {
      expect(Object.keys(envSchema.shape)).toContain(setting);
    }
    expect(contract.attachments.maxBytes).toBe(envSchema.shape.ATTACHMENTS_MAX_BYTES.parse(undefined));
    // The code's blob names: uploads/<ticket>/<id> until attached, then files/<ticket>/<id>.
    expect([contract.attachments.uploadsPrefix, contract.attachments.attachedPrefix]).toEqual(["uploads/", "files/"]);
    expect(contract.attachments.scanResultTag).toBe("Malware Scanning scan result");
    // The requester emails: the settings the code reads, required in Azure.
    expect(requiredInAzure).toEqual(expect.arrayContaining([contract.email.endpointSetting, contract.email.senderSetting]));
    expect(Object.keys(envSchema.shape)).toContain(contract.email.clientIdSetting);
  });

  it("refuses only the settings the code refuses in Azure", () => {
    const { refusedSettings } = codeContract(repoRoot);
    const inAzure = {
      WEBSITE_SITE_NAME: "func-fixture",
      ...Object.fromEntries(requiredInAzure.map((name) => [name, "https://example.com"])),
      EMAIL_SENDER: "DoNotReply@example.azurecomm.net",
    };

    expect(() => loadConfig(inAzure)).not.toThrow();
    expect(refusedSettings.map((s) => s.name)).toEqual(["EMAIL_CONNECTION_STRING"]);
    for (const { name } of refusedSettings) {
      expect(() => loadConfig({ ...inAzure, [name]: "endpoint=https://example.com/;accesskey=a2V5" }), name).toThrow(new RegExp(name));
    }
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
      await complete({
        extra: `resource site 'Microsoft.Web/sites@2024-11-01' existing = {
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
`,
      }),
    );

    expect(codes(problems), describeProblems(problems)).toEqual(["not-key-vault-reference@26"]);
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
  describe("the queues", () => {
    describe.each(TICKET_QUEUES)("the $name queue", (queue) => {
      /** The other queues, each with the app's roles: every problem below comes from this one. */
      const others = othersThan(queue);

      it("reports it when it is not deployed", async () => {
        const problems = await contractProblems(await complete({ queues: others }));

        expect(codes(problems), describeProblems(problems)).toEqual(["queue-name@8"]);
        expect(problems[0]?.message).toMatch(
          new RegExp(
            `no Service Bus queue named '${queue.name}' \\(the code's name\\); found: ${["escalations", ...restOf(queue).map((q) => q.name)].join(", ")}$`,
          ),
        );
      });

      it("reports its duplicate detection off, followed through the module's parameter", async () => {
        const broken = queueModule(queue.symbol, queue.file, "    duplicateDetection: false\n");
        const problems = await contractProblems(await complete({ queues: others, extra: broken }));

        expect(codes(problems), describeProblems(problems)).toEqual(["duplicate-detection@17"]);
        expect(problems[0]?.message).toMatch(new RegExp(`queue '${queue.name}' must set requiresDuplicateDetection: true .*found false$`));
      });

      it("reports its duplicate detection left out (the broker's default is off)", async () => {
        const file = `${queue.symbol}-without-detection.bicep`;
        const broken = await edited(queue.file, dropLines(/requiresDuplicateDetection/), file);
        const problems = await contractProblems(await complete({ queues: others, extra: queueModule(queue.symbol, file) }), [broken]);

        expect(codes(problems), describeProblems(problems)).toEqual(["duplicate-detection@13"]);
        expect(problems[0]?.message).toMatch(new RegExp(`queue '${queue.name}' must set .*found none \\(the broker's default is off\\)$`));
      });

      it(`reports ${queue.setting} left out of the app settings, or naming another queue`, async () => {
        // A name that is not the code's.
        const wrong = `${queue.symbol}-old`;
        const left = await edited("app.bicep", dropLines(new RegExp(`'${queue.setting}'`)), `app-without-${queue.symbol}-queue.bicep`);
        const other = await edited(
          "app.bicep",
          (source) => source.replace(`'${queue.setting}', value: '${queue.name}'`, `'${queue.setting}', value: '${wrong}'`),
          `app-other-${queue.symbol}-queue.bicep`,
        );
        const missing = await contractProblems(await complete({ app: `app-without-${queue.symbol}-queue.bicep` }), [left]);
        const renamed = await contractProblems(await complete({ app: `app-other-${queue.symbol}-queue.bicep` }), [other]);

        expect(codes(missing), describeProblems(missing)).toEqual(["missing-setting@5"]);
        expect(missing[0]?.message).toMatch(new RegExp(`app setting ${queue.setting} is not set, but the code needs it in Azure$`));
        expect(codes(renamed), describeProblems(renamed)).toEqual([`queue-name@${lineOf("app.bicep", `'${queue.setting}'`)}`]);
        expect(renamed[0]?.message).toBe(`${queue.setting} is '${wrong}', the code's Service Bus queue is '${queue.name}'`);
      });

      it("reports it when the app's identity has no send or receive role on it (its roles are on the other queues only)", async () => {
        const deployment = await complete({
          queues: others,
          extra: `resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: 'sb-fixture'
}
resource ${queue.symbol} 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: '${queue.name}'
  properties: {
    requiresDuplicateDetection: true
  }
}`,
        });
        const problems = await contractProblems(deployment);
        const at = lineIn(deployment, `resource ${queue.symbol} `);
        // The escalations queue's roles and those of the other queues of TICKET_QUEUES.
        const elsewhere = (symbol: string) =>
          Array<string>(1 + restOf(queue).length)
            .fill(symbol)
            .join(", ");

        expect(codes(problems), describeProblems(problems)).toEqual([`queue-role@${at}`, `queue-role@${at}`]);
        expect(problems.map((p) => p.message)).toEqual([
          `the app cannot send to queue '${queue.name}': no Azure Service Bus Data Sender or Azure Service Bus Data Owner assignment covers it (the queue, its namespace or the resource group); ${elsewhere("sender")} are scoped elsewhere`,
          `the app cannot receive from queue '${queue.name}': no Azure Service Bus Data Receiver or Azure Service Bus Data Owner assignment covers it (the queue, its namespace or the resource group); ${elsewhere("receiver")} are scoped elsewhere`,
        ]);
      });

      it("reports it when its roles are given to another identity than the app's", async () => {
        const problems = await contractProblems(
          await complete({
            queues: others,
            extra: `module other 'contract/identity.bicep' = {
  name: 'other'
  params: {
    name: 'id-other'
  }
}
${queueModule(queue.symbol, queue.file, "", "other.outputs.principalId")}`,
          }),
        );

        expect(codes(problems), describeProblems(problems)).toEqual(["queue-role@13", "queue-role@13"]);
        expect(problems.map((p) => p.message)).toEqual([
          expect.stringMatching(
            new RegExp(
              `cannot send to queue '${queue.name}': its .* assignments \\(sender\\) are for another principal than the identity in AZURE_CLIENT_ID$`,
            ),
          ),
          expect.stringMatching(
            new RegExp(
              `cannot receive from queue '${queue.name}': its .* assignments \\(receiver\\) are for another principal than the identity in ServiceBusConnection__clientId$`,
            ),
          ),
        ]);
      });
    });

    it("takes roles given in a loop over their ids as the app's", async () => {
      const problems = await contractProblems(
        await complete({
          queues: othersThan(TIMERS),
          extra: `var senderRoleId = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: 'sb-fixture'
}
resource timers 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: 'ticket-timers'
  properties: {
    requiresDuplicateDetection: true
  }
}
resource timerRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in [senderRoleId, '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0']: {
  name: guid(timers.id, roleId)
  scope: timers
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: identity.outputs.principalId
  }
}]`,
        }),
      );

      expect(problems, describeProblems(problems)).toEqual([]);
    });

    it("takes roles given in a loop over items() of an object of ids, as infra/ gives the host's storage roles", async () => {
      const problems = await contractProblems(
        await complete({
          queues: othersThan(TIMERS),
          extra: `var timerRoleIds = {
  // Azure Service Bus Data Sender, Azure Service Bus Data Receiver
  sender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  receiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
}
resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: 'sb-fixture'
}
resource timers 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: 'ticket-timers'
  properties: {
    requiresDuplicateDetection: true
  }
}
resource timerRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in items(timerRoleIds): {
  name: guid(timers.id, role.value)
  scope: timers
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.value)
    principalId: identity.outputs.principalId
  }
}]`,
        }),
      );

      expect(problems, describeProblems(problems)).toEqual([]);
    });

    it("takes Data Owner on the namespace, by its full role definition id, as the app's send and receive roles on every queue in it", async () => {
      const problems = await contractProblems(
        await complete({
          queues: `resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: 'sb-fixture'
  resource escalations 'queues' = {
    name: 'escalations'
    properties: {
      requiresDuplicateDetection: true
    }
  }
}
resource timers 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: 'ticket-timers'
  properties: {
    requiresDuplicateDetection: true
  }
}
resource commands 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: 'ticket-commands'
  properties: {
    requiresDuplicateDetection: true
  }
}
resource notifications 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: 'notifications'
  properties: {
    requiresDuplicateDetection: true
  }
}
resource owner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace.id, 'owner')
  scope: namespace
  properties: {
    roleDefinitionId: '/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419'
    principalId: identity.outputs.principalId
  }
}`,
        }),
      );

      expect(problems, describeProblems(problems)).toEqual([]);
    });
  });

  describe("the attachments", () => {
    it("reports an attachments account whose roles are given to another identity than the app's", async () => {
      const problems = await contractProblems(
        await complete({
          attachments: attachmentsModule("", "other.outputs.principalId"),
          extra: `module other 'contract/identity.bicep' = {
  name: 'other'
  params: {
    name: 'id-other'
  }
}`,
        }),
      );

      expect(new Set(problems.map((p) => p.code)), describeProblems(problems)).toEqual(new Set(["attachments-role"]));
      expect(problems.map((p) => p.message.replace(/ in the attachments account.*/, ""))).toEqual([
        "the app cannot read an upload's size and first bytes, or sign download SAS",
        "the app cannot sign upload SAS, or keep an upload under its attached name",
        "the app cannot delete refused or unattached uploads",
        "the app cannot read the malware scan result (blob index tags)",
        "the app cannot get the user delegation key that signs every SAS",
      ]);
    });

    it("asks for a CORS rule for the app's origins once there are some, and takes one with the same origins", async () => {
      const app = await edited(
        "app.bicep",
        (source) =>
          source.replace(
            "{ name: 'CORS_ALLOWED_ORIGINS', value: '' }",
            "{ name: 'CORS_ALLOWED_ORIGINS', value: 'https://helpdesk.example.com, https://m.example.com' }",
          ),
        "app-with-origins.bicep",
      );
      const none = await contractProblems(await complete({ app: "app-with-origins.bicep" }), [app]);
      const same = await contractProblems(
        await complete({
          app: "app-with-origins.bicep",
          attachments: attachmentsModule("    corsAllowedOrigins: ['https://m.example.com', 'https://helpdesk.example.com']\n"),
        }),
        [app],
      );
      const other = await contractProblems(
        await complete({
          app: "app-with-origins.bicep",
          attachments: attachmentsModule("    corsAllowedOrigins: ['https://helpdesk.example.com']\n"),
        }),
        [app],
      );

      expect(codes(none), describeProblems(none)).toEqual(["attachments-cors@24"]);
      expect(none[0]?.message).toMatch(/no CORS rule of the attachments account stfilesfixture allows the origins in CORS_ALLOWED_ORIGINS/);
      expect(same, describeProblems(same)).toEqual([]);
      expect(codes(other), describeProblems(other)).toEqual(["attachments-cors@24"]);
    });

    it("reports an ATTACHMENTS_ACCOUNT_URL that no account of the deployment is behind", async () => {
      const app = await edited(
        "app.bicep",
        (source) =>
          source.replace("value: files.properties.primaryEndpoints.blob", "value: 'https://stfilesfixture.blob.core.windows.net'"),
        "app-with-literal-url.bicep",
      );
      const problems = await contractProblems(await complete({ app: "app-with-literal-url.bicep" }), [app]);

      expect(codes(problems), describeProblems(problems)).toEqual([
        `attachments-account@${lineOf("app.bicep", "ATTACHMENTS_ACCOUNT_URL")}`,
      ]);
      expect(problems[0]?.message).toMatch(/^ATTACHMENTS_ACCOUNT_URL does not lead to a storage account this deployment creates/);
    });
  });

  describe("the requester emails", () => {
    /** The email fixture changed by `edit`, as `name`, in a deployment otherwise whole. */
    async function withEmail(edit: (source: string) => string, name: string) {
      const email = await edited("email.bicep", edit, name);
      return contractProblems(await complete({ email: emailModule(name) }), [email]);
    }

    it("reports a Communication Services resource that links no domain, and so not the sender's", async () => {
      const problems = await contractProblems(await complete({ email: emailModule("email-unlinked-domain.bicep") }));

      expect(codes(problems), describeProblems(problems)).toEqual([
        `email-domain@${lineOf("email-unlinked-domain.bicep", "resource communication ")}`,
        `email-sender@${lineOf("app.bicep", "'EMAIL_SENDER'")}`,
      ]);
      expect(problems.map((p) => p.message)).toEqual([
        "the Communication Services resource 'acs-fixture' links no email domain this deployment creates (properties.linkedDomains): it can send no email; link the email service's domain (linkedDomains: [domain.id])",
        "EMAIL_SENDER is an address on the domain 'AzureManagedDomain', which the Communication Services resource 'acs-fixture' does not link: every email from it is refused",
      ]);
    });

    it("reports a Communication Services resource and an email service in different data locations", async () => {
      const problems = await withEmail(
        (source) =>
          source.replace("    dataLocation: dataLocation\n    linkedDomains", "    dataLocation: 'United States'\n    linkedDomains"),
        "email-other-location.bicep",
      );

      expect(new Set(problems.map((p) => p.code)), describeProblems(problems)).toEqual(new Set(["email-data-location"]));
      expect(problems[0]?.message).toBe(
        "the Communication Services resource 'acs-fixture' keeps its data in 'United States' and the email service 'ecs-fixture' in 'Europe': a domain links only within its data location; give both the same one",
      );
    });

    it("reports the right to send given to another identity than the app's, or left out", async () => {
      const other = await contractProblems(
        await complete({
          email: emailModule("email.bicep", "other.outputs.principalId"),
          extra: `module other 'contract/identity.bicep' = {
  name: 'other'
  params: {
    name: 'id-other'
  }
}`,
        }),
      );
      const none = await withEmail((source) => source.slice(0, source.indexOf("resource send ")), "email-without-role.bicep");
      const at = `email-role@${lineOf("email.bicep", "resource communication ")}`;

      expect(codes(other), describeProblems(other)).toEqual([at]);
      expect(other[0]?.message).toBe(
        "the app cannot send email through 'acs-fixture': no role assignment made unconditionally to the identity in AZURE_CLIENT_ID grants Microsoft.Communication/CommunicationServices/Read, Microsoft.Communication/CommunicationServices/Write, Microsoft.Communication/EmailServices/write on it or the resource group (send grants it to another principal)",
      );
      expect(codes(none), describeProblems(none)).toEqual([at]);
    });

    it("reports a custom role that lacks one of the actions sending takes", async () => {
      const problems = await withEmail(dropLines(/'Microsoft\.Communication\/EmailServices\/write'/), "email-role-without-write.bicep");

      expect(codes(problems), describeProblems(problems)).toEqual([`email-role@${lineOf("email.bicep", "resource communication ")}`]);
      expect(problems[0]?.message).toMatch(/grants Microsoft\.Communication\/EmailServices\/write on it or the resource group$/);
    });

    it("takes the built-in Communication and Email Service Owner as a right to send, and reports it as more than sending needs", async () => {
      const problems = await withEmail(
        (source) =>
          source.replace(
            "roleDefinitionId: sender.id",
            "roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '09976791-48a7-449e-bb21-39d1a415f350')",
          ),
        "email-owner-role.bicep",
      );

      expect(codes(problems), describeProblems(problems)).toEqual([`email-role@${lineOf("email.bicep", "resource send ")}`]);
      expect(problems[0]?.message).toBe(
        "send: Communication and Email Service Owner also lets the app read its access keys, regenerate its access keys, delete it ('acs-fixture'); sending needs only Microsoft.Communication/CommunicationServices/Read, Microsoft.Communication/CommunicationServices/Write, Microsoft.Communication/EmailServices/write: a custom role with them",
      );
    });

    it("reports an EMAIL_ENDPOINT that is the bare host name, or no resource of the deployment's", async () => {
      const bare = await edited(
        "app.bicep",
        (source) => source.replace("value: 'https://${communication.properties.hostName}'", "value: communication.properties.hostName"),
        "app-with-bare-host.bicep",
      );
      const literal = await edited(
        "app.bicep",
        (source) =>
          source.replace(
            "value: 'https://${communication.properties.hostName}'",
            "value: 'https://acs-fixture.europe.communication.azure.com'",
          ),
        "app-with-literal-endpoint.bicep",
      );
      const hostOnly = await contractProblems(await complete({ app: "app-with-bare-host.bicep" }), [bare]);
      const elsewhere = await contractProblems(await complete({ app: "app-with-literal-endpoint.bicep" }), [literal]);
      const at = `email-endpoint@${lineOf("app.bicep", "'EMAIL_ENDPOINT'")}`;

      expect(codes(hostOnly), describeProblems(hostOnly)).toEqual([at]);
      expect(hostOnly[0]?.message).toMatch(/^EMAIL_ENDPOINT must be the https endpoint of 'acs-fixture'/);
      // Nothing to follow: neither the domain's link nor the role can be judged.
      expect(codes(elsewhere), describeProblems(elsewhere)).toEqual([at]);
      expect(elsewhere[0]?.message).toMatch(/^EMAIL_ENDPOINT does not lead to a Communication Services resource this deployment creates/);
    });

    it("reports an EMAIL_SENDER that is not an address", async () => {
      const app = await edited(
        "app.bicep",
        (source) => source.replace("value: 'DoNotReply@${", "value: '${"),
        "app-with-bare-domain.bicep",
      );
      const problems = await contractProblems(await complete({ app: "app-with-bare-domain.bicep" }), [app]);

      expect(codes(problems), describeProblems(problems)).toEqual([`email-sender@${lineOf("app.bicep", "'EMAIL_SENDER'")}`]);
      expect(problems[0]?.message).toMatch(/^EMAIL_SENDER must be an address/);
    });

    it("reports EMAIL_CONNECTION_STRING among the app settings, even as a Key Vault reference", async () => {
      const deployment = await complete({
        extra: `resource site 'Microsoft.Web/sites@2024-11-01' existing = {
  name: 'func-fixture'
}
resource more 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    EMAIL_CONNECTION_STRING: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/email)'
  }
}
`,
      });
      const problems = await contractProblems(deployment);

      expect(codes(problems), describeProblems(problems)).toEqual([`refused-setting@${lineIn(deployment, "EMAIL_CONNECTION_STRING")}`]);
      expect(problems[0]?.message).toBe(
        "app setting EMAIL_CONNECTION_STRING is set, but the code refuses it in Azure: in Azure the emails are sent with the managed identity (EMAIL_ENDPOINT)",
      );
    });
  });
});
