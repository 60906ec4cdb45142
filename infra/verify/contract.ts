import path from "node:path";
import type { Node } from "web-tree-sitter";
import { BINDING_CONNECTIONS, envSchema, requiredInAzure } from "../../shared/app/config.js";
import {
  ESCALATIONS_QUEUE,
  NOTIFICATIONS_QUEUE,
  TICKET_COMMANDS_QUEUE,
  TICKET_TIMERS_QUEUE,
} from "../../shared/adapters/servicebus/names.js";
import { LEASES_CONTAINER, TICKETS_CONTAINER } from "../../shared/adapters/cosmos/names.js";
import { fileBlobName, SCAN_RESULT_TAG, uploadBlobName } from "../../shared/attachments/domain/attachment.js";
import { isKeyVaultReferenceText } from "./appsettings.js";
import { Deployment, identityOf, roleIdsOf, ROLE_ASSIGNMENT_TYPE, sameIdentity, type Deployed } from "./deployed.js";
import { checkEmail, type EmailRequirement } from "./email.js";
import { evaluateString, evaluateStrings, resolveBinding } from "./evaluate.js";
import {
  callArguments,
  calleeName,
  propertyPath,
  propertyValue,
  sameType,
  stringLiteral,
  stringPrefix,
  unwrap,
  type ResourceDecl,
} from "./model.js";
import type { Instance } from "./modules.js";
import { locate } from "./parse.js";
import { problem, type Problem } from "./problems.js";
import { checkStorage, type AttachmentsRequirement } from "./storage.js";

/**
 * The contract between infra/ and the code: the function app gets every setting the code
 * needs in Azure, every binding connection is identity-based, the database, containers,
 * queues and indexing policy are the ones the code names, every queue drops duplicates, and
 * the identities the app sends and receives with hold Service Bus data roles on each queue;
 * the storage accounts the app uses are fit for what it does there (storage.ts), and so is the
 * Communication Services resource it sends the requester emails through (email.ts).
 */

export type ConnectionKind = "storage" | "cosmosDB" | "serviceBus";

export interface ConnectionRequirement {
  /** The binding's `connection` value (the app-settings prefix). */
  prefix: string;
  kind: ConnectionKind;
}

/**
 * Connections the function registrations use, and the host's own storage. Meant to be
 * replaced by a list derived from the registrations (each trigger's `connection` and type).
 */
export const REQUIRED_CONNECTIONS: readonly ConnectionRequirement[] = [
  { prefix: "AzureWebJobsStorage", kind: "storage" },
  { prefix: "CosmosDBConnection", kind: "cosmosDB" },
  { prefix: "ServiceBusConnection", kind: "serviceBus" },
];

/** The setting that locates the service, per kind (any one of the alternatives will do). */
const LOCATORS: Record<ConnectionKind, readonly string[]> = {
  storage: ["accountName", "blobServiceUri"],
  cosmosDB: ["accountEndpoint"],
  serviceBus: ["fullyQualifiedNamespace"],
};

export interface ContainerRequirement {
  name: string;
  partitionKey: string;
  /** Absolute path of the indexing-policy file the container must load, if the code has one. */
  indexingPolicyFile?: string;
  /**
   * The container's defaultTtl, if the code relies on one: -1 lets a document that carries
   * its own `ttl` (an idempotency receipt) expire and keeps every other (a container without
   * defaultTtl ignores the documents' `ttl`; a positive one would expire tickets too).
   */
  defaultTtl?: number;
}

/** What the app does with a queue. */
export type QueueAccess = "send" | "receive";

export interface QueueRequirement {
  /** The code's name for the queue (shared/adapters/servicebus/names.ts). */
  name: string;
  /** The app setting the code reads the name from. */
  setting: string;
  /**
   * What the app does with the queue, each with the app setting that holds the client id of
   * the identity doing it: that identity needs a data role allowing it on the queue.
   */
  access: Readonly<Partial<Record<QueueAccess, string>>>;
}

/**
 * The code's own Service Bus client (the dispatcher's publish, the notifier's re-pages) signs
 * in as AZURE_CLIENT_ID; the Service Bus trigger receives with its connection's identity.
 */
const SEND_AND_RECEIVE = { send: "AZURE_CLIENT_ID", receive: `${BINDING_CONNECTIONS.serviceBus}__clientId` } as const;

/** Built-in Service Bus data roles, by role definition id, with what each allows on a queue. */
export const SERVICE_BUS_ROLES: Readonly<Record<string, { name: string; allows: readonly QueueAccess[] }>> = {
  "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39": { name: "Azure Service Bus Data Sender", allows: ["send"] },
  "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0": { name: "Azure Service Bus Data Receiver", allows: ["receive"] },
  "090c5cfd-751d-490a-894a-3ce6f1109419": { name: "Azure Service Bus Data Owner", allows: ["send", "receive"] },
};

export interface CodeContract {
  /** Settings that must always be present. */
  requiredSettings: readonly string[];
  /** Settings that may be left out, but when present must be Key Vault references. */
  keyVaultSettings: readonly string[];
  /** Settings the code refuses in Azure (it does not start with one), each with why. */
  refusedSettings: readonly { name: string; why: string }[];
  connections: readonly ConnectionRequirement[];
  /** The database name the code defaults to, and the setting that overrides it. */
  database: { name: string; setting: string };
  containers: readonly ContainerRequirement[];
  queues: readonly QueueRequirement[];
  attachments: AttachmentsRequirement;
  email: EmailRequirement;
}

/**
 * What the code expects, read from the code itself where it says so: `requiredInAzure`, the
 * database default, the container and queue names, the attachments' blob layout and limit. The other settings listed here are ones
 * the code reads with a default or as optional, which in Azure must still come from infra/.
 */
export function codeContract(repoRoot: string): CodeContract {
  const databaseDefault = envSchema.shape.COSMOS_DATABASE_NAME.parse(undefined);
  // Issue 13: where the code puts an upload not attached yet, and an attachment, read from
  // the name it gives their blobs (the first segment).
  const firstSegment = (name: string) => `${name.split("/")[0]}/`;
  const prefixOf = (state: "uploading" | "attached") =>
    firstSegment(state === "uploading" ? uploadBlobName({ ticketId: "t", id: "a" }) : fileBlobName({ ticketId: "t", id: "a" }, "c"));
  const attachments: AttachmentsRequirement = {
    urlSetting: "ATTACHMENTS_ACCOUNT_URL",
    containerSetting: "ATTACHMENTS_CONTAINER",
    clientIdSetting: "AZURE_CLIENT_ID",
    corsSetting: "CORS_ALLOWED_ORIGINS",
    uploadsPrefix: prefixOf("uploading"),
    attachedPrefix: prefixOf("attached"),
    // "Uploads never attached are deleted after 24 hours."
    uploadsMaxAgeDays: 1,
    maxBytes: envSchema.shape.ATTACHMENTS_MAX_BYTES.parse(undefined),
    scanResultTag: SCAN_RESULT_TAG,
  };
  const queues: QueueRequirement[] = [
    { name: ESCALATIONS_QUEUE, setting: "ESCALATION_QUEUE_NAME", access: SEND_AND_RECEIVE },
    // The SLA clocks' warnings and breaches, scheduled through the outbox and handled by a trigger.
    { name: TICKET_TIMERS_QUEUE, setting: "TIMER_QUEUE_NAME", access: SEND_AND_RECEIVE },
    // Issue 12: what one ticket's change fans out to other tickets (an incident's broadcast and
    // cascade to its children, a child's link told to its parent), sent by the app and received
    // by its ticketCommands trigger.
    { name: TICKET_COMMANDS_QUEUE, setting: "TICKET_COMMANDS_QUEUE_NAME", access: SEND_AND_RECEIVE },
    // Issue "Tell the requester": requester emails and the apps' webhook events, published from
    // the outbox and received by the app's notifications trigger.
    { name: NOTIFICATIONS_QUEUE, setting: "NOTIFICATIONS_QUEUE_NAME", access: SEND_AND_RECEIVE },
  ];
  return {
    requiredSettings: [
      ...requiredInAzure,
      "AZURE_CLIENT_ID",
      "COSMOS_DATABASE_NAME",
      "CORS_ALLOWED_ORIGINS",
      "APPLICATIONINSIGHTS_CONNECTION_STRING",
      "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
      "SERVICE_BUS_NAMESPACE",
      ...queues.map((q) => q.setting),
      "ESCALATION_ACK_TIMEOUT_SECONDS",
      "ESCALATION_MAX_REPAGES",
      // The code's default points at localhost: fine locally, a dead link in an Azure alert.
      "TICKET_URL_TEMPLATE",
      // Unset, the code takes the local storage emulator; the container is named either way.
      attachments.urlSetting,
      attachments.containerSetting,
    ],
    keyVaultSettings: ["ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_SECRET", "TEAMS_WEBHOOK_URL", "SLACK_WEBHOOK_URL", "PAGERDUTY_ROUTING_KEY"],
    // loadConfig refuses it inside Azure: the emails go with the managed identity.
    refusedSettings: [{ name: "EMAIL_CONNECTION_STRING", why: "in Azure the emails are sent with the managed identity (EMAIL_ENDPOINT)" }],
    connections: REQUIRED_CONNECTIONS,
    database: { name: databaseDefault, setting: "COSMOS_DATABASE_NAME" },
    // Partition keys from DESIGN.md section 5; /id is what the change-feed leases require.
    // The tickets policy is the one file the local bootstrap also applies (DESIGN.md section 5).
    containers: [
      {
        name: TICKETS_CONTAINER,
        partitionKey: "/ticketId",
        indexingPolicyFile: path.join(repoRoot, "shared", "adapters", "cosmos", "indexing-policy.json"),
        // The local bootstrap's too (shared/adapters/cosmos/connect.ts).
        defaultTtl: -1,
      },
      { name: LEASES_CONTAINER, partitionKey: "/id" },
    ],
    queues,
    attachments,
    email: { endpointSetting: "EMAIL_ENDPOINT", senderSetting: "EMAIL_SENDER", clientIdSetting: "AZURE_CLIENT_ID" },
  };
}

export function checkContract(root: Instance, contract: CodeContract): Problem[] {
  const deployment = new Deployment(root);
  checkAppSettings(deployment, contract);
  checkCosmos(deployment, contract);
  checkQueues(deployment, contract);
  checkStorage(deployment, contract.attachments);
  checkEmail(deployment, contract.email);
  return deployment.problems;
}

function checkAppSettings(deployment: Deployment, contract: CodeContract): void {
  if (deployment.ofType("Microsoft.Web/sites").length === 0) {
    deployment.report("missing-app", deployment.entryAt, "no Microsoft.Web/sites (function app) is deployed");
  }
  for (const [name, entries] of deployment.settings) {
    const second = entries.filter((e) => !e.conditional)[1];
    if (second) deployment.report("duplicate-setting", deployment.settingAt(second), `app setting ${name} is set twice`);
  }
  for (const name of contract.requiredSettings) {
    if (deployment.always(name)) continue;
    const how = deployment.settings.has(name) ? "is only set under a condition" : "is not set";
    deployment.report("missing-setting", deployment.appAt(), `app setting ${name} ${how}, but the code needs it in Azure`);
  }
  for (const name of contract.keyVaultSettings) {
    for (const setting of deployment.settings.get(name) ?? []) {
      if (!setting.value || !isKeyVaultReference(setting.value, setting.context)) {
        deployment.report(
          "not-key-vault-reference",
          deployment.settingAt(setting),
          `app setting ${name} must be a Key Vault reference (@Microsoft.KeyVault(SecretUri=...))`,
        );
      }
    }
  }
  for (const { name, why } of contract.refusedSettings) {
    for (const setting of deployment.settings.get(name) ?? []) {
      deployment.report(
        "refused-setting",
        deployment.settingAt(setting),
        `app setting ${name} is set, but the code refuses it in Azure: ${why}`,
      );
    }
  }
  for (const connection of contract.connections) checkConnection(deployment, connection);
}

function checkConnection(deployment: Deployment, { prefix, kind }: ConnectionRequirement): void {
  const plain = deployment.settings.get(prefix)?.[0];
  if (plain) {
    deployment.report(
      "connection-string",
      deployment.settingAt(plain),
      `${prefix} is set as a connection string; use identity-based ${prefix}__* settings`,
    );
  }
  const locators = LOCATORS[kind].map((suffix) => `${prefix}__${suffix}`);
  if (!locators.some((name) => deployment.always(name))) {
    deployment.report("missing-connection", deployment.appAt(), `connection ${prefix} needs ${locators.join(" or ")}`);
  }
  const credential = deployment.always(`${prefix}__credential`);
  if (!credential) {
    deployment.report("missing-connection", deployment.appAt(), `connection ${prefix} needs ${prefix}__credential = managedidentity`);
  } else if (deployment.describeValue(credential) !== "'managedidentity'") {
    deployment.report(
      "missing-connection",
      deployment.settingAt(credential),
      `${prefix}__credential must be 'managedidentity', found ${deployment.describeValue(credential)}`,
    );
  }
  // With a user-assigned identity the host must be told which one.
  if (!deployment.always(`${prefix}__clientId`)) {
    deployment.report(
      "missing-connection",
      deployment.appAt(),
      `connection ${prefix} needs ${prefix}__clientId (the user-assigned identity)`,
    );
  }
}

function checkCosmos(deployment: Deployment, contract: CodeContract): void {
  checkNamed(deployment, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases", "Cosmos DB database", "database-name", contract.database);

  const containers = deployment.ofType("Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers");
  for (const container of containers) {
    const idNode = propertyPath(container.resource.body, "properties", "resource", "id");
    const id = idNode ? evaluateString(idNode, container.instance) : undefined;
    if (container.name !== undefined && id !== undefined && id !== container.name) {
      deployment.report(
        "container-name",
        deployment.at(container, idNode),
        `container '${container.name}' has resource.id '${id}': Cosmos DB requires them equal`,
      );
    }
  }
  for (const wanted of contract.containers) {
    const container = containers.find((c) => c.name === wanted.name);
    if (!container) {
      deployment.report(
        "container-name",
        containers[0] ? deployment.at(containers[0]) : deployment.entryAt,
        `no Cosmos DB container named '${wanted.name}' (the code's name); found: ${deployment.namesOf(containers)}`,
      );
      continue;
    }
    const pathsNode = propertyPath(container.resource.body, "properties", "resource", "partitionKey", "paths");
    const paths = pathsNode ? evaluateStrings(pathsNode, container.instance) : undefined;
    if (!paths || paths.length !== 1 || paths[0] !== wanted.partitionKey) {
      deployment.report(
        "partition-key",
        deployment.at(container, pathsNode),
        `container '${wanted.name}' must be partitioned on ${wanted.partitionKey}, found ${paths ? JSON.stringify(paths) : "no literal partition key"}`,
      );
    }
    if (wanted.indexingPolicyFile) deployment.problems.push(...checkIndexingPolicy(container, wanted.indexingPolicyFile));
    if (wanted.defaultTtl !== undefined) {
      const ttlNode = propertyPath(container.resource.body, "properties", "resource", "defaultTtl");
      const found = ttlNode ? ttlNode.text.trim() : undefined;
      if (found !== String(wanted.defaultTtl)) {
        deployment.report(
          "default-ttl",
          deployment.at(container, ttlNode),
          `container '${wanted.name}' must set defaultTtl: ${wanted.defaultTtl} (records that carry a ttl expire, nothing else does), found ${found ?? "none"}`,
        );
      }
    }
  }
}

const QUEUE_TYPE = "Microsoft.ServiceBus/namespaces/queues";

/** Every queue the code uses exists, with duplicate detection on, named by its setting, and the app may use it. */
function checkQueues(deployment: Deployment, contract: CodeContract): void {
  const queues = deployment.ofType(QUEUE_TYPE);
  // A role assignment made only under a condition (the developer's) is not one the app can count on.
  const assignments = deployment.ofType(ROLE_ASSIGNMENT_TYPE).filter((a) => !a.resource.conditional);
  for (const wanted of contract.queues) {
    checkNamed(deployment, QUEUE_TYPE, "Service Bus queue", "queue-name", wanted);
    const queue = queues.find((q) => q.name === wanted.name);
    if (!queue) continue;
    checkDuplicateDetection(deployment, queue);
    for (const [access, clientIdSetting] of Object.entries(wanted.access) as [QueueAccess, string][]) {
      checkQueueRole(deployment, queue, assignments, access, clientIdSetting);
    }
  }
}

/** The dispatcher re-publishes an entry whose `sent` mark was lost under the same messageId: the broker must drop it. */
function checkDuplicateDetection(deployment: Deployment, queue: Deployed): void {
  const node = propertyPath(queue.resource.body, "properties", "requiresDuplicateDetection");
  const value = node ? resolveBinding(node, queue.instance).node : undefined;
  if (value?.type === "boolean" && value.text === "true") return;
  const found = !value
    ? "none (the broker's default is off)"
    : value.type === "boolean"
      ? value.text
      : "a value not known before deployment";
  deployment.report(
    "duplicate-detection",
    deployment.at(queue, node),
    `queue '${queue.name}' must set requiresDuplicateDetection: true (the outbox re-publishes an entry under the same messageId), found ${found}`,
  );
}

/**
 * Some role assignment, always made, gives the identity named by `clientIdSetting` a role
 * allowing `access` on the queue, its namespace or the whole resource group. The identity is
 * compared when both ends lead to a user-assigned identity of the deployment; else any
 * principal is taken to be it (a principal id passed in cannot be told apart).
 */
function checkQueueRole(
  deployment: Deployment,
  queue: Deployed,
  assignments: Deployed[],
  access: QueueAccess,
  clientIdSetting: string,
): void {
  const setting = deployment.always(clientIdSetting);
  const identity = setting?.value ? identityOf(setting.value, setting.context, "clientId") : undefined;
  const granting = assignments.filter((a) => roleIdsOf(a).some((id) => SERVICE_BUS_ROLES[id]?.allows.includes(access)));
  const scoped = granting.filter((a) => covers(a, queue));
  const ours = scoped.filter((a) => {
    if (!identity) return true;
    const principal = propertyPath(a.resource.body, "properties", "principalId");
    const other = principal ? identityOf(principal, a.instance, "principalId") : undefined;
    return other !== undefined && sameIdentity(other, identity);
  });
  if (ours.length > 0) return;
  const roles = Object.values(SERVICE_BUS_ROLES)
    .filter((r) => r.allows.includes(access))
    .map((r) => r.name)
    .join(" or ");
  const symbols = (found: Deployed[]) => found.map((a) => a.resource.symbol).join(", ");
  const why =
    granting.length === 0
      ? `no role assignment made unconditionally grants ${roles}`
      : scoped.length === 0
        ? `no ${roles} assignment covers it (the queue, its namespace or the resource group); ${symbols(granting)} ${granting.length === 1 ? "is" : "are"} scoped elsewhere`
        : `its ${roles} assignments (${symbols(scoped)}) are for another principal than the identity in ${clientIdSetting}`;
  deployment.report(
    "queue-role",
    deployment.at(queue),
    `the app cannot ${access === "send" ? "send to" : "receive from"} queue '${queue.name}': ${why}`,
  );
}

/** Whether the assignment's scope takes in the queue: the queue itself, its namespace, or (no scope) the resource group. */
function covers(assignment: Deployed, queue: Deployed): boolean {
  const scope = propertyValue(assignment.resource.body, "scope");
  if (!scope) return true;
  const expr = unwrap(scope);
  if (expr.type === "call_expression" && calleeName(expr) === "resourceGroup" && callArguments(expr).length === 0) return true;
  if (expr.type !== "identifier") return false;
  const target = assignment.instance.model.resources.find((r) => r.symbol === expr.text);
  if (!target) return false;
  const sameInstance = assignment.instance === queue.instance;
  if (sameInstance && target === queue.resource) return true;
  // The queue declared `existing` where the role is assigned: the same queue when the names agree.
  if (sameType(target.type, QUEUE_TYPE) && target.existing) {
    const nameNode = propertyValue(target.body, "name");
    return nameNode !== null && evaluateString(nameNode, assignment.instance) === queue.name;
  }
  return sameInstance && target === namespaceOf(queue);
}

/** The namespace a queue is declared in (`parent:` or nesting), in the queue's own file. */
function namespaceOf(queue: Deployed): ResourceDecl | undefined {
  if (queue.resource.enclosing) return queue.resource.enclosing;
  const parent = propertyValue(queue.resource.body, "parent");
  return parent?.type === "identifier" ? queue.instance.model.resources.find((r) => r.symbol === parent.text) : undefined;
}

/** A resource the code names must exist under that name, and the setting naming it must agree. */
function checkNamed(
  deployment: Deployment,
  type: string,
  what: string,
  code: "database-name" | "queue-name",
  wanted: { name: string; setting: string },
): void {
  const found = deployment.ofType(type);
  if (!found.some((r) => r.name === wanted.name)) {
    deployment.report(
      code,
      found[0] ? deployment.at(found[0]) : deployment.entryAt,
      `no ${what} named '${wanted.name}' (the code's name); found: ${deployment.namesOf(found)}`,
    );
  }
  const setting = deployment.always(wanted.setting);
  if (setting && deployment.describeValue(setting) !== `'${wanted.name}'`) {
    deployment.report(
      code,
      deployment.settingAt(setting),
      `${wanted.setting} is ${deployment.describeValue(setting)}, the code's ${what} is '${wanted.name}'`,
    );
  }
}

function isKeyVaultReference(value: Node, instance: Instance): boolean {
  const { node, instance: where } = resolveBinding(value, instance);
  if (node.type === "ternary_expression") {
    return [node.childForFieldName("consequence"), node.childForFieldName("alternative")].every(
      (b) => b !== null && (stringLiteral(unwrap(b)) === "" || isKeyVaultReference(b, where)),
    );
  }
  return node.type === "string" && isKeyVaultReferenceText(stringPrefix(node) ?? "");
}

/** The container's indexing policy must be loadJsonContent() of exactly `expectedFile`. */
function checkIndexingPolicy(container: Deployed, expectedFile: string): Problem[] {
  const policyNode = propertyPath(container.resource.body, "properties", "resource", "indexingPolicy");
  const where = locate(container.instance.model.file, policyNode ?? container.resource.node);
  const fail = (message: string) => [problem("contract", "indexing-policy", where, message)];
  const expected = path.relative(path.dirname(container.instance.model.file.path), expectedFile);
  if (!policyNode) return fail(`the '${container.name}' container sets no indexingPolicy; load it with loadJsonContent('${expected}')`);
  const { node, instance } = resolveBinding(policyNode, container.instance);
  const [first] = node.type === "call_expression" && calleeName(node) === "loadJsonContent" ? callArguments(node) : [];
  const relative = first ? stringLiteral(unwrap(first)) : undefined;
  if (relative === undefined)
    return fail(`the '${container.name}' indexing policy must be loadJsonContent('${expected}'), the file the local bootstrap also uses`);
  const loaded = path.resolve(path.dirname(instance.model.file.path), relative);
  if (loaded !== path.resolve(expectedFile)) {
    return fail(
      `the '${container.name}' indexing policy loads ${relative}, not the shared ${path.relative(path.dirname(instance.model.file.path), expectedFile)}`,
    );
  }
  return [];
}
