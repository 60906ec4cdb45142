import type { Node } from "web-tree-sitter";
import { appSettingSources, collectSettings, localResolver } from "./appsettings.js";
import {
  callArguments,
  calleeName,
  modelOf,
  objectEntries,
  propertyPath,
  lookupPath,
  propertyValue,
  resolveLocal,
  sameType,
  stringLiteral,
  type BicepModel,
  type ResourceDecl,
} from "./model.js";
import { modulePath } from "./modules.js";
import { locate, visit, type BicepFile } from "./parse.js";
import { problem, type Problem } from "./problems.js";

/**
 * What a deployment to Flex Consumption needs that no schema says, each learnt from a
 * failed or misbehaving deployment:
 *
 * - Cosmos DB data-role assignments are made one after the other, after the containers:
 *   the account takes one such operation at a time, and a second one in parallel fails
 *   with 412 "another operation is in progress".
 * - `maximumInstanceCount` is at least 40, Flex Consumption's floor: a smaller value is
 *   refused at deployment, so the template must not accept one.
 * - No `ftpsState` and no `ftp` publishing-credentials policy: Flex Consumption supports
 *   neither, and a deployment that sets them fails or drifts.
 * - `NODE_OPTIONS` carries `--enable-source-maps`: the package is a bundle with source
 *   maps, and without the flag stack traces point into the bundle.
 * - Every storage role the app gets is one the Functions host or the attachments need, said
 *   in a comment beside it; any other storage role is a grant nobody uses. Which account
 *   gets which is the contract's to check (storage.ts), as it takes
 *   knowing which account each app setting leads to.
 */

/** Flex Consumption's smallest allowed maximumInstanceCount. */
const FLEX_MIN_MAXIMUM_INSTANCES = 40;

/** The Node.js flag the bundle's source maps need. */
const SOURCE_MAPS_FLAG = "--enable-source-maps";

/** Built-in Azure Storage data and management roles, by role definition id. */
export const STORAGE_ROLES: Readonly<Record<string, string>> = {
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
  "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
  "db58b8e5-c6ad-4a2a-8342-4190687cbf4a": "Storage Blob Delegator",
  "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
  "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
  "19e7f393-937e-4f77-808e-94535e297925": "Storage Queue Data Reader",
  "8a0f0c08-91a1-4084-bc3d-661d67233fed": "Storage Queue Data Message Processor",
  "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a": "Storage Queue Data Message Sender",
  "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
  "76199698-9eea-4c19-bc75-cec21354c6b6": "Storage Table Data Reader",
  "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
  "0c867c2a-1d8c-454a-a3db-ab2ea1bdc8bb": "Storage File Data SMB Share Contributor",
};

/**
 * The storage roles the Functions host needs for this app, and why (Azure Functions docs,
 * "Connecting to host storage with an identity"): blobs for the host's coordination, keys
 * and timer locks and for the Flex deployment package; tables for the host's diagnostic
 * events. Queues only serve blob and queue triggers, which this app has none of.
 */
export const HOST_STORAGE_ROLES: Readonly<Record<string, string>> = {
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "host coordination, keys and timer locks (AzureWebJobsStorage), and the deployment package",
  "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "the host's diagnostic events (AzureWebJobsStorage tables)",
};

/**
 * The storage roles the attachments need (issue 13, infra/modules/attachments.bicep), and why:
 * the code reads, writes and deletes the attachments' blobs, and signs user-delegation SAS
 * for one blob each, with a key only the Delegator's action (or a broader role on the account) gives.
 */
export const ATTACHMENT_STORAGE_ROLES: Readonly<Record<string, string>> = {
  "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "the attachments' blobs: read, write, delete, and the SAS for one blob",
  "db58b8e5-c6ad-4a2a-8342-4190687cbf4a": "the user delegation key that signs the attachments' SAS",
};

export function checkDeployment(files: readonly BicepFile[]): Problem[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const problems: Problem[] = [];
  for (const file of files) {
    const model = modelOf(file);
    problems.push(...checkCosmosRoleOrder(model));
    problems.push(...checkFlexApps(model));
    problems.push(...checkInstanceFloorArguments(model, byPath));
    problems.push(...checkStorageRoles(model));
  }
  return problems;
}

// ---- Cosmos DB role assignments ----

const COSMOS_ROLE_ASSIGNMENT = "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments";
const COSMOS_CONTAINER = "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers";

/** Symbols of the resources a resource refers to (dependsOn, parent, `x.id`...): Bicep's dependencies. */
function references(model: BicepModel, resource: ResourceDecl): Set<string> {
  const symbols = new Set(model.resources.map((r) => r.symbol));
  const found = new Set<string>();
  if (resource.enclosing) found.add(resource.enclosing.symbol);
  const root = resource.node.namedChildren[resource.node.namedChildren.length - 1];
  if (!root) return found;
  visit(root, (node) => {
    // A nested resource is a resource of its own, with its own dependencies.
    if (node.type === "resource_declaration") return false;
    if (node.type !== "identifier" || !symbols.has(node.text) || node.text === resource.symbol) return true;
    // `key: value`: the key is not a reference.
    const parent = node.parent;
    if (parent?.type === "object_property" && parent.namedChildren[0]?.id === node.id) return true;
    found.add(node.text);
    return true;
  });
  return found;
}

/** Whether `from` depends on `to`, directly or through other resources of the file. */
function dependsOn(model: BicepModel, from: ResourceDecl, to: ResourceDecl): boolean {
  const seen = new Set<string>();
  const pending = [from.symbol];
  while (pending.length) {
    const symbol = pending.pop() as string;
    if (seen.has(symbol)) continue;
    seen.add(symbol);
    const resource = model.resources.find((r) => r.symbol === symbol);
    if (!resource) continue;
    for (const next of references(model, resource)) {
      if (next === to.symbol) return true;
      pending.push(next);
    }
  }
  return false;
}

function checkCosmosRoleOrder(model: BicepModel): Problem[] {
  const problems: Problem[] = [];
  const assignments = model.resources.filter((r) => !r.existing && sameType(r.type, COSMOS_ROLE_ASSIGNMENT));
  const containers = model.resources.filter((r) => !r.existing && sameType(r.type, COSMOS_CONTAINER));
  const report = (resource: ResourceDecl, message: string) =>
    problems.push(problem("deployment", "cosmos-role-order", locate(model.file, resource.node), message));
  assignments.forEach((assignment, index) => {
    if (assignment.looped) {
      report(
        assignment,
        `${assignment.symbol}: a loop of Cosmos DB role assignments runs in parallel (412 'another operation is in progress'); declare them one by one, each depending on the one before`,
      );
    }
    const previous = assignments[index - 1];
    if (previous && !dependsOn(model, assignment, previous)) {
      report(
        assignment,
        `${assignment.symbol} must depend on ${previous.symbol}: Cosmos DB takes one role assignment at a time (412 'another operation is in progress' otherwise)`,
      );
    }
    if (index === 0) {
      const missing = containers.filter((c) => !dependsOn(model, assignment, c)).map((c) => c.symbol);
      if (missing.length) {
        report(
          assignment,
          `${assignment.symbol} must depend on the containers (${missing.join(", ")}): a role assignment made while they are created fails with 412`,
        );
      }
    }
  });
  return problems;
}

// ---- the Flex Consumption app ----

/** `functionAppConfig` exists only on Flex Consumption apps. */
function flexApps(model: BicepModel): ResourceDecl[] {
  return model.resources.filter(
    (r) => !r.existing && sameType(r.type, "Microsoft.Web/sites") && propertyPath(r.body, "properties", "functionAppConfig") !== null,
  );
}

/** The number a decorator such as `@minValue(40)` gives a declaration, if any. */
function decoratorNumber(declaration: Node, decorator: string): number | undefined {
  let previous = declaration.previousNamedSibling;
  while (previous?.type === "comment") previous = previous.previousNamedSibling;
  if (previous?.type !== "decorators") return undefined;
  for (const d of previous.namedChildren) {
    const call = d.namedChildren[0];
    if (call?.type !== "call_expression" || calleeName(call) !== decorator) continue;
    const [arg] = callArguments(call);
    return arg?.type === "number" ? Number(arg.text) : undefined;
  }
  return undefined;
}

/** Why `value` may be below the floor, or null when it cannot be. */
function belowFloor(model: BicepModel, value: Node): string | null {
  const expr = resolveLocal(model, value);
  if (expr.type === "number") {
    return Number(expr.text) >= FLEX_MIN_MAXIMUM_INSTANCES ? null : `is ${expr.text}`;
  }
  if (expr.type === "identifier") {
    const param = model.params.get(expr.text);
    if (!param) return `is ${expr.text}, which is not a parameter with @minValue(${FLEX_MIN_MAXIMUM_INSTANCES})`;
    const min = decoratorNumber(param.node, "minValue");
    if (min === undefined || min < FLEX_MIN_MAXIMUM_INSTANCES) {
      return `comes from parameter '${param.name}', which allows ${min ?? "any value"} and up`;
    }
    const fallback = param.defaultValue ? resolveLocal(model, param.defaultValue) : null;
    if (fallback?.type === "number" && Number(fallback.text) < FLEX_MIN_MAXIMUM_INSTANCES) {
      return `comes from parameter '${param.name}', whose default is ${fallback.text}`;
    }
    return null;
  }
  return "is an expression that may be below the floor";
}

function checkFlexApps(model: BicepModel): Problem[] {
  const problems: Problem[] = [];
  const report = (code: string, node: Node, message: string) =>
    problems.push(problem("deployment", code, locate(model.file, node), message));
  const apps = flexApps(model);
  for (const app of apps) {
    const max = propertyPath(app.body, "properties", "functionAppConfig", "scaleAndConcurrency", "maximumInstanceCount");
    const why = max ? belowFloor(model, max) : null;
    if (max && why) {
      report(
        "flex-instance-floor",
        max,
        `${app.symbol}: maximumInstanceCount ${why}; Flex Consumption refuses less than ${FLEX_MIN_MAXIMUM_INSTANCES}`,
      );
    }

    const siteConfig = lookupPath(model, app.body, ["properties", "siteConfig"]);
    const ftps = siteConfig ? propertyValue(siteConfig, "ftpsState") : null;
    if (ftps) report("flex-unsupported", ftps, `${app.symbol}: ftpsState is not supported on Flex Consumption; leave it out`);

    problems.push(...checkNodeOptions(model, app));
  }
  if (apps.length === 0) return problems;
  for (const policy of model.resources) {
    if (policy.existing || !sameType(policy.type, "Microsoft.Web/sites/basicPublishingCredentialsPolicies")) continue;
    const name = propertyValue(policy.body, "name");
    const literal = name ? stringLiteral(resolveLocal(model, name)) : undefined;
    if (literal === "ftp" || literal?.endsWith("/ftp")) {
      report(
        "flex-unsupported",
        name as Node,
        `${policy.symbol}: the 'ftp' publishing policy is not supported on Flex Consumption; leave it out`,
      );
    }
  }
  return problems;
}

/** The app's settings, from its siteConfig or a `config` resource named `appsettings` in the same file. */
function checkNodeOptions(model: BicepModel, app: ResourceDecl): Problem[] {
  const sources = appSettingSources(model).filter(
    (s) => s.resource === app || propertyValue(s.resource.body, "parent")?.text === app.symbol || s.resource.enclosing === app,
  );
  const at = locate(model.file, sources[0]?.node ?? app.node);
  const local = localResolver(model);
  const entries = sources.flatMap((s) => collectSettings(s.node, null, local).entries).filter((e) => e.name === "NODE_OPTIONS");
  const always = entries.find((e) => !e.conditional);
  if (!always) {
    return [
      problem(
        "deployment",
        "source-maps",
        at,
        `${app.symbol}: app setting NODE_OPTIONS must always be set and include ${SOURCE_MAPS_FLAG} (the bundle's stack traces map back to the sources only with it)`,
      ),
    ];
  }
  const value = always.value ? stringLiteral(resolveLocal(model, always.value)) : undefined;
  if (value === undefined || !value.split(/\s+/).includes(SOURCE_MAPS_FLAG)) {
    return [
      problem(
        "deployment",
        "source-maps",
        locate(model.file, always.at),
        `${app.symbol}: NODE_OPTIONS must include ${SOURCE_MAPS_FLAG}, found ${value === undefined ? "a value not known before deployment" : `'${value}'`}`,
      ),
    ];
  }
  return [];
}

/**
 * A module that deploys a Flex app takes its maximumInstanceCount from a parameter with a
 * floor; the caller's argument must keep to it too (a literal at or above it, or a
 * parameter of its own with the same floor), so the mistake shows where it is made.
 */
function checkInstanceFloorArguments(model: BicepModel, files: Map<string, BicepFile>): Problem[] {
  const problems: Problem[] = [];
  for (const module of model.modules) {
    const target = modulePath(model, module);
    const child = target ? files.get(target) : undefined;
    if (!child) continue;
    const childModel = modelOf(child);
    const floored = new Set<string>();
    for (const app of flexApps(childModel)) {
      const max = propertyPath(app.body, "properties", "functionAppConfig", "scaleAndConcurrency", "maximumInstanceCount");
      const expr = max ? resolveLocal(childModel, max) : null;
      if (expr?.type === "identifier" && childModel.params.has(expr.text)) floored.add(expr.text);
    }
    const params = propertyValue(module.body, "params");
    if (params?.type !== "object") continue;
    for (const entry of objectEntries(params)) {
      if (!entry.key || !floored.has(entry.key)) continue;
      const why = belowFloor(model, entry.value);
      if (why) {
        problems.push(
          problem(
            "deployment",
            "flex-instance-floor",
            locate(model.file, entry.value),
            `module ${module.symbol}: '${entry.key}' ${why}; Flex Consumption refuses a maximumInstanceCount below ${FLEX_MIN_MAXIMUM_INSTANCES}`,
          ),
        );
      }
    }
  }
  return problems;
}

// ---- storage roles ----

/** Every storage role id written in the file must be one the host or the attachments need, with a comment saying why. */
function checkStorageRoles(model: BicepModel): Problem[] {
  const problems: Problem[] = [];
  const lines = model.file.source.split("\n");
  visit(model.file.root, (node) => {
    if (node.type !== "string") return true;
    const id = stringLiteral(node)?.toLowerCase();
    const role = id ? STORAGE_ROLES[id] : undefined;
    if (!id || !role) return true;
    const at = locate(model.file, node);
    const need = HOST_STORAGE_ROLES[id] ?? ATTACHMENT_STORAGE_ROLES[id];
    if (!need) {
      problems.push(
        problem(
          "deployment",
          "storage-role",
          at,
          `${role} is not a role the Functions host or the attachments need (no blob or queue trigger uses storage); remove it, or say in HOST_STORAGE_ROLES or ATTACHMENT_STORAGE_ROLES why it is needed`,
        ),
      );
      return false;
    }
    const line = lines[at.line - 1] ?? "";
    const above = lines[at.line - 2]?.trim() ?? "";
    if (!line.includes("//") && !above.startsWith("//")) {
      problems.push(problem("deployment", "storage-role", at, `${role}: say in a comment beside it what it is needed for (${need})`));
    }
    return false;
  });
  return problems;
}
