import path from "node:path";
import type { Node } from "web-tree-sitter";
import { ATTACHMENT_STORAGE_ROLES, HOST_STORAGE_ROLES, STORAGE_ROLES } from "./deployment.js";
import {
  allows,
  declaredBy,
  identityOf,
  parentOf,
  permissionsOf,
  roleDefinitionOf,
  roleIdsOf,
  ROLE_ASSIGNMENT_TYPE,
  sameIdentity,
  type Declared,
  type Deployed,
  type Deployment,
  type RolePermissions,
  type Setting,
} from "./deployed.js";
import { evaluateString, evaluateStrings, resolveBinding } from "./evaluate.js";
import { callArguments, calleeName, namedItems, propertyPath, propertyValue, sameType, unwrap } from "./model.js";
import type { Instance } from "./modules.js";
import { locate } from "./parse.js";

/**
 * The storage accounts the app uses, each found from the app setting that leads to it: the
 * host's (AzureWebJobsStorage) holds only the roles the host needs, and the attachments'
 * (ATTACHMENTS_ACCOUNT_URL, issue 13) gives the code what it relies on: the container named
 * by ATTACHMENTS_CONTAINER, blob CORS for the API's own origins, soft delete, a lifecycle
 * rule that deletes uploads never attached and nothing attached, Defender for Storage
 * scanning every upload with its result in blob index tags, and the app's identity allowed
 * each thing the code does there. Shared keys, anonymous access and TLS are security.ts's,
 * for every account alike.
 */

export interface AttachmentsRequirement {
  /** The setting the code reads the account's blob endpoint from. */
  urlSetting: string;
  /** The setting naming the container. */
  containerSetting: string;
  /** The setting holding the client id of the identity the code signs in as (DefaultAzureCredential). */
  clientIdSetting: string;
  /** The API's browser origins: browsers upload from the same ones. */
  corsSetting: string;
  /** Blob names of uploads not attached yet: the lifecycle rule deletes them. */
  uploadsPrefix: string;
  /** Blob names of attachments: nothing may delete them behind the code's back. */
  attachedPrefix: string;
  /** An upload never attached is deleted once it is more than this many days old. */
  uploadsMaxAgeDays: number;
  /** The largest attachment, in bytes: scanning must not skip anything up to it. */
  maxBytes: number;
  /** The index tag the code reads the scan's verdict from (Defender's name for it). */
  scanResultTag: string;
}

/** What the code does on the attachments' account, each with the permission it takes and where it is granted. */
export interface AttachmentNeed {
  /** A control-plane action or a data action, as role definitions name them. */
  action: string;
  /** `container`: granted on the container, the account or the resource group; `account`: on the account or the resource group. */
  scope: "container" | "account";
  what: string;
}

const BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs";

export const ATTACHMENT_NEEDS: readonly AttachmentNeed[] = [
  { action: `${BLOBS}/read`, scope: "container", what: "read an upload's size and first bytes, or sign download SAS" },
  { action: `${BLOBS}/write`, scope: "container", what: "sign upload SAS, or keep an upload under its attached name" },
  { action: `${BLOBS}/delete`, scope: "container", what: "delete refused or unattached uploads" },
  { action: `${BLOBS}/tags/read`, scope: "container", what: "read the malware scan result (blob index tags)" },
  {
    action: "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
    scope: "account",
    what: "get the user delegation key that signs every SAS",
  },
];

/** Built-in Blob Storage roles, by role definition id (Azure built-in roles, Storage). */
export const BLOB_ROLES: Readonly<Record<string, RolePermissions>> = {
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": {
    name: "Storage Blob Data Owner",
    actions: [
      "Microsoft.Storage/storageAccounts/blobServices/containers/*",
      "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
    ],
    dataActions: [`${BLOBS}/*`],
  },
  "ba92f5b4-2d11-453d-a403-e96b0029c9fe": {
    name: "Storage Blob Data Contributor",
    actions: [
      "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
      "Microsoft.Storage/storageAccounts/blobServices/containers/read",
      "Microsoft.Storage/storageAccounts/blobServices/containers/write",
      "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
    ],
    dataActions: [`${BLOBS}/delete`, `${BLOBS}/read`, `${BLOBS}/write`, `${BLOBS}/move/action`, `${BLOBS}/add/action`],
  },
  "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": {
    name: "Storage Blob Data Reader",
    actions: [
      "Microsoft.Storage/storageAccounts/blobServices/containers/read",
      "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
    ],
    dataActions: [`${BLOBS}/read`],
  },
  "db58b8e5-c6ad-4a2a-8342-4190687cbf4a": {
    name: "Storage Blob Delegator",
    actions: ["Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"],
    dataActions: [],
  },
};

/** What a browser's block upload sends that is not CORS-safelisted: the account's CORS rule must allow it. */
export const UPLOAD_HEADERS = ["content-type", "x-ms-blob-type", "x-ms-version"] as const;
/** The methods a browser uploads (PUT) and reads (GET, HEAD) with. */
export const UPLOAD_METHODS = ["PUT", "GET", "HEAD"] as const;

const STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts";
const BLOB_SERVICE = "Microsoft.Storage/storageAccounts/blobServices";
const CONTAINER = "Microsoft.Storage/storageAccounts/blobServices/containers";
const MANAGEMENT_POLICY = "Microsoft.Storage/storageAccounts/managementPolicies";
const DEFENDER = "Microsoft.Security/defenderForStorageSettings";

/** Settings that locate the host's storage account (identity-based AzureWebJobsStorage). */
const HOST_STORAGE_LOCATORS = ["AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__accountName"];

export function checkStorage(deployment: Deployment, attachments: AttachmentsRequirement): void {
  const accounts = new Accounts(deployment);
  const host = HOST_STORAGE_LOCATORS.map((name) => deployment.always(name)).find((s) => s !== undefined);
  const hostAccount = host ? accounts.behind(host) : [];
  // Not every deployment says which account the host uses in a way that can be followed
  // (an account name written as text): then there is nothing to hold its roles to.
  const hostOnly = hostAccount.length === 1 ? hostAccount[0] : undefined;
  if (hostOnly)
    checkRolesHeld(deployment, accounts, hostOnly, HOST_STORAGE_ROLES, `the Functions host's account ${nameOf(hostOnly)}`, false);
  checkAttachments(deployment, accounts, attachments, hostOnly);
}

/** An account's name, or where it is declared when the name is computed at deployment. */
function nameOf(account: Deployed): string {
  return account.name ?? `'${account.resource.symbol}' (${path.basename(account.instance.model.file.path)})`;
}

// ---- the accounts and what belongs to them ----

/** The storage accounts the deployment creates, and what is declared on them anywhere in it. */
class Accounts {
  constructor(private readonly deployment: Deployment) {}

  /** The accounts (created by the deployment) an app setting's value is computed from. */
  behind(setting: Setting): Deployed[] {
    return setting.value ? this.deployment.behind(setting.value, setting.context, STORAGE_ACCOUNT) : [];
  }

  /** Whether the declaration is `account` (or an `existing` one of the same name). */
  isAccount(declared: Declared, account: Deployed): boolean {
    return sameType(declared.resource.type, STORAGE_ACCOUNT) && this.deployment.deployedAs(declared)?.resource === account.resource;
  }

  /** The account a declaration of a child resource (blob service, container, policy) sits under. */
  accountOf(declared: Declared): Deployed | undefined {
    let current: Declared | undefined = declared;
    for (let depth = 0; current && depth < 8; depth++) {
      if (sameType(current.resource.type, STORAGE_ACCOUNT)) return this.deployment.deployedAs(current);
      current = parentOf(current);
    }
    // `name: 'account/default'`: the account is the name's first segment.
    const nameNode = propertyPath(declared.resource.body, "name");
    const first = nameNode ? evaluateString(nameNode, declared.instance)?.split("/")[0] : undefined;
    return first ? this.deployment.ofType(STORAGE_ACCOUNT).find((a) => a.name === first) : undefined;
  }

  /** Resources of `type` the deployment creates under `account`. */
  under(account: Deployed, type: string): Deployed[] {
    return this.deployment.ofType(type).filter((d) => this.accountOf(d)?.resource === account.resource);
  }

  /**
   * What an extension resource's `scope:` is, relative to `account`: the account itself, the
   * container named `container` in it (any of its containers when `container` is not known),
   * the resource group (no scope, or `resourceGroup()`), or something else.
   */
  scopeOf(resource: Deployed, account: Deployed, container?: string): "account" | "container" | "resource group" | "elsewhere" {
    const scope = propertyValue(resource.resource.body, "scope");
    if (!scope) return "resource group";
    const expr = unwrap(scope);
    if (expr.type === "call_expression" && calleeName(expr) === "resourceGroup" && callArguments(expr).length === 0)
      return "resource group";
    const target = declaredBy(expr, resource.instance);
    if (!target) return "elsewhere";
    if (this.isAccount(target, account)) return "account";
    if (sameType(target.resource.type, CONTAINER) && this.accountOf(target)?.resource === account.resource) {
      const nameNode = propertyPath(target.resource.body, "name");
      const name = nameNode ? evaluateString(nameNode, target.instance) : undefined;
      // The container not known (its setting missing, reported as such): any of the account's.
      return container === undefined || name === container ? "container" : "elsewhere";
    }
    return "elsewhere";
  }
}

// ---- roles ----

/** What a role assignment grants, as far as Blob Storage goes: built-in Blob roles, and custom roles declared here. */
interface Grant {
  assignment: Deployed;
  permissions: RolePermissions[];
}

function grantOf(assignment: Deployed): Grant {
  return { assignment, permissions: permissionsOf(assignment, BLOB_ROLES) };
}

function grants(grant: Grant, action: string): boolean {
  return grant.permissions.some((p) => allows(p.actions, action) || allows(p.dataActions, action));
}

/**
 * Every role assigned on the account (or anything in it) is one of `allowed`, or (when
 * `customAllowed`) a custom role declared here: any other is a grant nobody needs.
 */
function checkRolesHeld(
  deployment: Deployment,
  accounts: Accounts,
  account: Deployed,
  allowed: Readonly<Record<string, string>>,
  who: string,
  customAllowed: boolean,
  container?: string,
): void {
  for (const assignment of deployment.ofType(ROLE_ASSIGNMENT_TYPE)) {
    const scope = accounts.scopeOf(assignment, account, container);
    if (scope !== "account" && scope !== "container") continue;
    const node = propertyPath(assignment.resource.body, "properties", "roleDefinitionId");
    if (node && roleDefinitionOf(node, assignment.instance)) {
      if (!customAllowed) {
        deployment.report(
          "storage-role",
          deployment.at(assignment),
          `${assignment.resource.symbol}: a custom role on ${who}, which needs only ${describeRoles(allowed)}`,
        );
      }
      continue;
    }
    for (const id of roleIdsOf(assignment)) {
      if (allowed[id]) continue;
      deployment.report(
        "storage-role",
        deployment.at(assignment),
        `${assignment.resource.symbol}: ${STORAGE_ROLES[id] ?? BLOB_ROLES[id]?.name ?? `role ${id}`} on ${who}, which needs only ${describeRoles(allowed)}${customAllowed ? " (and custom roles declared here, such as one reading index tags)" : ""}`,
      );
    }
  }
}

function describeRoles(roles: Readonly<Record<string, string>>): string {
  return Object.keys(roles)
    .map((id) => STORAGE_ROLES[id] ?? id)
    .join(" and ");
}

// ---- the attachments ----

function checkAttachments(deployment: Deployment, accounts: Accounts, wanted: AttachmentsRequirement, host: Deployed | undefined): void {
  // Its absence is a missing setting, reported as such.
  const urlSetting = deployment.always(wanted.urlSetting);
  if (!urlSetting) return;
  const found = accounts.behind(urlSetting);
  const account = found[0];
  if (!account || found.length > 1) {
    deployment.report(
      "attachments-account",
      deployment.settingAt(urlSetting),
      found.length > 1
        ? `${wanted.urlSetting} is computed from several storage accounts (${deployment.namesOf(found)}); it must be one account's blob endpoint`
        : `${wanted.urlSetting} does not lead to a storage account this deployment creates, so nothing says it is fit for attachments (CORS, lifecycle, scanning, roles); set it from the attachments account's primaryEndpoints.blob`,
    );
    return;
  }
  if (host && host.resource === account.resource && host.instance === account.instance) {
    deployment.report(
      "attachments-account",
      deployment.settingAt(urlSetting),
      `${wanted.urlSetting} leads to the Functions host's storage account ${nameOf(account)}: attachments need an account of their own, so that their CORS, lifecycle rule, scanning and the app's roles on them reach nothing of the host's`,
    );
    return;
  }
  const label = `the attachments account ${nameOf(account)}`;
  const container = checkContainer(deployment, accounts, account, wanted, label);
  const upload = container === undefined ? undefined : `${container}/${wanted.uploadsPrefix}`;
  const attached = container === undefined ? undefined : `${container}/${wanted.attachedPrefix}`;

  checkBlobService(deployment, accounts, account, wanted, label);
  if (upload && attached) checkLifecycle(deployment, accounts, account, wanted, label, upload, attached);
  checkScanning(deployment, accounts, account, wanted, label, upload && attached ? [upload, attached] : []);
  checkAttachmentRoles(deployment, accounts, account, wanted, label, container);
  checkRolesHeld(deployment, accounts, account, ATTACHMENT_STORAGE_ROLES, label, true, container);
}

/** The container ATTACHMENTS_CONTAINER names exists in the account; its name, if known. */
function checkContainer(
  deployment: Deployment,
  accounts: Accounts,
  account: Deployed,
  wanted: AttachmentsRequirement,
  label: string,
): string | undefined {
  const setting = deployment.always(wanted.containerSetting);
  if (!setting) return undefined;
  const name = setting.value ? evaluateString(setting.value, setting.context) : undefined;
  if (name === undefined) {
    deployment.report(
      "attachments-container",
      deployment.settingAt(setting),
      `${wanted.containerSetting} is not known before deployment: nothing says its container is in ${label}`,
    );
    return undefined;
  }
  const containers = accounts.under(account, CONTAINER).filter((c) => !c.resource.conditional);
  if (!containers.some((c) => c.name === name)) {
    deployment.report(
      "attachments-container",
      containers[0] ? deployment.at(containers[0]) : deployment.at(account),
      `no blob container named '${name}' (${wanted.containerSetting}) in ${label}; found: ${deployment.namesOf(containers)}`,
    );
  }
  return name;
}

/** Soft delete, and CORS for the app's own origins with what a browser's block upload sends. */
function checkBlobService(
  deployment: Deployment,
  accounts: Accounts,
  account: Deployed,
  wanted: AttachmentsRequirement,
  label: string,
): void {
  const service = accounts.under(account, BLOB_SERVICE).find((s) => !s.resource.conditional);
  const retention = service ? propertyPath(service.resource.body, "properties", "deleteRetentionPolicy", "enabled") : null;
  if (!service || !retention || !isTrue(retention, service.instance)) {
    deployment.report(
      "attachments-soft-delete",
      service ? deployment.at(service, retention) : deployment.at(account),
      `${label} must keep deleted blobs a while (blobServices deleteRetentionPolicy.enabled: true): a blob deleted by the code or by the lifecycle rule by mistake could not be restored`,
    );
  }

  const corsSetting = deployment.always(wanted.corsSetting);
  const origins = corsSetting ? appOrigins(corsSetting) : undefined;
  if (!origins || (origins.literal && origins.literal.length === 0)) return;
  const rulesNode = service ? propertyPath(service.resource.body, "properties", "cors", "corsRules") : null;
  const rules = service && rulesNode ? objectsIn(rulesNode, service.instance) : [];
  for (const rule of rules) {
    const ruleOrigins = propertyValue(rule.node, "allowedOrigins");
    if (ruleOrigins && evaluateStrings(ruleOrigins, rule.instance)?.includes("*")) {
      deployment.report(
        "attachments-cors",
        locate(rule.instance.model.file, ruleOrigins),
        `a CORS rule of ${label} allows any origin; allow the API's (${wanted.corsSetting})`,
      );
    }
  }
  const rule = rules.find((r) => {
    const ruleOrigins = propertyValue(r.node, "allowedOrigins");
    return ruleOrigins !== null && sameOrigins(ruleOrigins, r.instance, origins);
  });
  if (!rule || !service) {
    deployment.report(
      "attachments-cors",
      service ? deployment.at(service, rulesNode) : deployment.at(account),
      `no CORS rule of ${label} allows the origins in ${wanted.corsSetting}: browsers on them could not upload; give its blob service a rule with the same origins`,
    );
    return;
  }
  const methodsNode = propertyValue(rule.node, "allowedMethods");
  const methods = (methodsNode ? evaluateStrings(methodsNode, rule.instance) : undefined)?.map((m) => m.toUpperCase()) ?? [];
  const missingMethods = UPLOAD_METHODS.filter((m) => !methods.includes(m));
  if (missingMethods.length > 0) {
    deployment.report(
      "attachments-cors",
      locate(rule.instance.model.file, methodsNode ?? rule.node),
      `the CORS rule of ${label} must allow ${missingMethods.join(", ")} (browsers upload with PUT and read with GET and HEAD)`,
    );
  }
  const headersNode = propertyValue(rule.node, "allowedHeaders");
  const headers = (headersNode ? evaluateStrings(headersNode, rule.instance) : undefined)?.map((h) => h.toLowerCase()) ?? [];
  const missingHeaders = UPLOAD_HEADERS.filter((h) => !headers.some((allowed) => allowed === "*" || allows([allowed], h)));
  if (missingHeaders.length > 0) {
    deployment.report(
      "attachments-cors",
      locate(rule.instance.model.file, headersNode ?? rule.node),
      `the CORS rule of ${label} must allow the headers ${missingHeaders.join(", ")} (a browser's block upload sends them)`,
    );
  }
}

/** The app's CORS origins: the array its setting is joined from, or the setting's literal list. */
function appOrigins(setting: Setting): { binding?: { node: Node; instance: Instance }; literal?: string[] } | undefined {
  if (!setting.value) return undefined;
  const { node, instance } = resolveBinding(setting.value, setting.context);
  if (node.type === "call_expression" && calleeName(node) === "join") {
    const [list] = callArguments(node);
    if (!list) return undefined;
    const binding = resolveBinding(list, instance);
    return { binding, literal: evaluateStrings(list, instance) };
  }
  const text = evaluateString(node, instance);
  return text === undefined
    ? undefined
    : {
        literal: text
          .split(",")
          .map((o) => o.trim())
          .filter((o) => o.length > 0),
      };
}

function sameOrigins(node: Node, instance: Instance, origins: NonNullable<ReturnType<typeof appOrigins>>): boolean {
  const bound = resolveBinding(node, instance);
  if (origins.binding && bound.node.id === origins.binding.node.id && bound.instance === origins.binding.instance) return true;
  const literal = evaluateStrings(node, instance);
  return literal !== undefined && origins.literal !== undefined && [...literal].sort().join(",") === [...origins.literal].sort().join(",");
}

/** The object literals an array expression may hold, across ternary branches, variables and parameters. */
function objectsIn(node: Node, instance: Instance, depth = 0): { node: Node; instance: Instance }[] {
  if (depth > 16) return [];
  const { node: expr, instance: where } = resolveBinding(node, instance);
  if (expr.type === "object") return [{ node: expr, instance: where }];
  if (expr.type === "array") return namedItems(expr).flatMap((item) => objectsIn(item, where, depth + 1));
  if (expr.type === "ternary_expression") {
    return [expr.childForFieldName("consequence"), expr.childForFieldName("alternative")].flatMap((b) =>
      b ? objectsIn(b, where, depth + 1) : [],
    );
  }
  if (expr.type === "for_statement") {
    const body = expr.childForFieldName("body");
    return body ? objectsIn(body, where, depth + 1) : [];
  }
  return [];
}

function isTrue(node: Node, instance: Instance): boolean {
  const value = resolveBinding(node, instance).node;
  return value.type === "boolean" && value.text === "true";
}

function numberOf(node: Node | null, instance: Instance): number | undefined {
  if (!node) return undefined;
  const value = resolveBinding(node, instance).node;
  if (value.type === "number") return Number(value.text);
  if (value.type === "unary_expression" && value.childForFieldName("operator")?.text === "-") {
    const argument = value.childForFieldName("argument");
    return argument?.type === "number" ? -Number(argument.text) : undefined;
  }
  return undefined;
}

/** `prefix` is a blob-name prefix matching some blob whose name starts with `area`. */
function reaches(prefix: string, area: string): boolean {
  return area.startsWith(prefix) || prefix.startsWith(area);
}

/** A lifecycle rule deletes every upload after `uploadsMaxAgeDays`, and no rule deletes an attachment. */
function checkLifecycle(
  deployment: Deployment,
  accounts: Accounts,
  account: Deployed,
  wanted: AttachmentsRequirement,
  label: string,
  upload: string,
  attached: string,
): void {
  const policies = accounts.under(account, MANAGEMENT_POLICY).filter((p) => !p.resource.conditional);
  let deletesUploads = false;
  const nearMisses: string[] = [];
  for (const policy of policies) {
    const rulesNode = propertyPath(policy.resource.body, "properties", "policy", "rules");
    for (const rule of rulesNode ? objectsIn(rulesNode, policy.instance) : []) {
      const at = locate(rule.instance.model.file, rule.node);
      const enabled = propertyValue(rule.node, "enabled");
      if (enabled && resolveBinding(enabled, rule.instance).node.text === "false") continue;
      const definition = propertyValue(rule.node, "definition");
      const remove = propertyPath(definition, "actions", "baseBlob", "delete");
      if (!remove) continue;
      const days =
        numberOf(propertyValue(remove, "daysAfterModificationGreaterThan"), rule.instance) ??
        numberOf(propertyValue(remove, "daysAfterCreationGreaterThan"), rule.instance);
      const filters = propertyValue(definition, "filters");
      const prefixNode = propertyValue(filters, "prefixMatch");
      const prefixes = prefixNode ? evaluateStrings(prefixNode, rule.instance) : [""];
      const typesNode = propertyValue(filters, "blobTypes");
      const blockBlobs = (typesNode ? evaluateStrings(typesNode, rule.instance) : undefined)?.includes("blockBlob") ?? false;
      if (prefixes === undefined) {
        deployment.report(
          "attachments-lifecycle",
          at,
          `a lifecycle rule of ${label} deletes blobs under prefixes not known before deployment: it may delete attachments`,
        );
        continue;
      }
      const danger = prefixes.find((p) => reaches(p, attached));
      if (danger !== undefined) {
        deployment.report(
          "attachments-lifecycle",
          at,
          `a lifecycle rule of ${label} deletes blobs under '${danger}', which takes in attachments (${attached}): only uploads never attached (${upload}) may be deleted`,
        );
      }
      if (!blockBlobs || !prefixes.some((p) => upload.startsWith(p))) continue;
      if (days === wanted.uploadsMaxAgeDays) deletesUploads = true;
      else nearMisses.push(days === undefined ? "after a number of days not known before deployment" : `after ${days} days`);
    }
  }
  if (deletesUploads) return;
  const why =
    nearMisses.length > 0
      ? `its rule for '${upload}' deletes them ${nearMisses.join(", ")}, not after ${wanted.uploadsMaxAgeDays} (more keeps an upload past 24 hours; 0 may delete one while it is being attached)`
      : `no enabled lifecycle rule deletes block blobs under '${upload}'`;
  deployment.report(
    "attachments-lifecycle",
    policies[0] ? deployment.at(policies[0]) : deployment.at(account),
    `${label} must delete uploads never attached after ${wanted.uploadsMaxAgeDays} day (a managementPolicies rule on '${upload}', daysAfterModificationGreaterThan: ${wanted.uploadsMaxAgeDays}): ${why}`,
  );
}

/** Defender for Storage scans every upload on arrival and writes its result as blob index tags. */
function checkScanning(
  deployment: Deployment,
  accounts: Accounts,
  account: Deployed,
  wanted: AttachmentsRequirement,
  label: string,
  areas: string[],
): void {
  const settings = deployment.ofType(DEFENDER).filter((d) => accounts.scopeOf(d, account) === "account");
  const setting = settings.find((s) => !s.resource.conditional);
  if (!setting) {
    deployment.report(
      "attachments-scanning",
      settings[0] ? deployment.at(settings[0]) : deployment.at(account),
      settings[0]
        ? `the Defender for Storage settings of ${label} are only made under a condition: without them no upload is scanned, and the code serves none`
        : `no Defender for Storage settings (${DEFENDER}, scope: the account) on ${label}: no upload is scanned, and the code serves only attachments whose scan found no threat`,
    );
    return;
  }
  const body = setting.resource.body;
  const where = setting.instance;
  const report = (node: Node | null, message: string) =>
    deployment.report("attachments-scanning", deployment.at(setting, node), `${label}: ${message}`);
  const enabled = propertyPath(body, "properties", "isEnabled");
  if (!enabled || !isTrue(enabled, where)) report(enabled, "Defender for Storage must be on (properties.isEnabled: true)");
  const onUpload = propertyPath(body, "properties", "malwareScanning", "onUpload");
  const scanning = propertyValue(onUpload, "isEnabled");
  if (!scanning || !isTrue(scanning, where)) {
    report(scanning ?? onUpload, "malware scanning on upload must be on (properties.malwareScanning.onUpload.isEnabled: true)");
  }
  const capNode = propertyValue(onUpload, "capGBPerMonth");
  const cap = numberOf(capNode, where);
  if (cap === undefined || (cap !== -1 && cap < 1)) {
    report(
      capNode ?? onUpload,
      `malware scanning needs a monthly cap (properties.malwareScanning.onUpload.capGBPerMonth: a number of GB, or -1 for none), found ${cap ?? (capNode ? "a value not known before deployment" : "none")}`,
    );
  }
  const results = propertyPath(body, "properties", "malwareScanning", "blobScanResultsOptions");
  const resultsValue = results ? evaluateString(results, where) : undefined;
  if (resultsValue !== "blobIndexTags") {
    report(
      results,
      `scan results must be written as blob index tags (properties.malwareScanning.blobScanResultsOptions: 'blobIndexTags'): the code reads the tag '${wanted.scanResultTag}'; found ${resultsValue === undefined ? (results ? "a value not known before deployment" : "none") : `'${resultsValue}'`}`,
    );
  }
  const override = propertyPath(body, "properties", "overrideSubscriptionLevelSettings");
  if (!override || !isTrue(override, where)) {
    report(override, "the account's settings must win over the subscription's (properties.overrideSubscriptionLevelSettings: true)");
  }
  const filters = propertyValue(onUpload, "filters");
  const excludedNode = propertyValue(filters, "excludeBlobsWithPrefix");
  const excluded = excludedNode ? (evaluateStrings(excludedNode, where) ?? [""]) : [];
  const skipped = excluded.find((p) => areas.some((area) => reaches(p, area)));
  if (skipped !== undefined) report(excludedNode, `scanning must not skip blobs under '${skipped}': an unscanned upload is never served`);
  const suffixNode = propertyValue(filters, "excludeBlobsWithSuffix");
  if (suffixNode && (evaluateStrings(suffixNode, where)?.length ?? 1) > 0) {
    report(suffixNode, "scanning must not skip blobs by their name's ending: an unscanned upload is never served");
  }
  const largerNode = propertyValue(filters, "excludeBlobsLargerThan");
  const larger = numberOf(largerNode, where);
  if (largerNode && (larger === undefined || larger < wanted.maxBytes)) {
    report(
      largerNode,
      `scanning must not skip blobs up to the largest attachment (${wanted.maxBytes} bytes): an unscanned upload is never served`,
    );
  }
}

/** The identity the code signs in as holds, on the container or the account, every permission ATTACHMENT_NEEDS lists. */
function checkAttachmentRoles(
  deployment: Deployment,
  accounts: Accounts,
  account: Deployed,
  wanted: AttachmentsRequirement,
  label: string,
  container: string | undefined,
): void {
  const clientId = deployment.always(wanted.clientIdSetting);
  const identity = clientId?.value ? identityOf(clientId.value, clientId.context, "clientId") : undefined;
  const ours = deployment
    .ofType(ROLE_ASSIGNMENT_TYPE)
    .filter((a) => !a.resource.conditional)
    .filter((a) => {
      if (!identity) return true;
      const principal = propertyPath(a.resource.body, "properties", "principalId");
      const other = principal ? identityOf(principal, a.instance, "principalId") : undefined;
      return other !== undefined && sameIdentity(other, identity);
    })
    .map((a) => ({ scope: accounts.scopeOf(a, account, container), grant: grantOf(a) }))
    .filter((a) => a.scope !== "elsewhere");
  for (const need of ATTACHMENT_NEEDS) {
    const covering = ours.filter((a) => need.scope === "container" || a.scope !== "container");
    if (covering.some((a) => grants(a.grant, need.action))) continue;
    const elsewhere = ours.filter((a) => a.scope === "container" && grants(a.grant, need.action));
    const where = need.scope === "container" ? "the container, the account or the resource group" : "the account or the resource group";
    deployment.report(
      "attachments-role",
      deployment.at(account),
      `the app cannot ${need.what} in ${label}: no role assignment made unconditionally to the identity in ${wanted.clientIdSetting} grants ${need.action} on ${where}` +
        (elsewhere.length > 0
          ? ` (${elsewhere.map((a) => a.grant.assignment.resource.symbol).join(", ")} ${elsewhere.length === 1 ? "grants" : "grant"} it on the container only, and it is an account-level action)`
          : ""),
    );
  }
}
