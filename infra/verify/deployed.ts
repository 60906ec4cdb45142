import type { Node } from "web-tree-sitter";
import { appSettingSources, collectSettings, type Resolver, type SettingEntry } from "./appsettings.js";
import { evaluateString, evaluateStrings, resolveBinding } from "./evaluate.js";
import {
  callArguments,
  calleeName,
  namedItems,
  objectEntries,
  propertyPath,
  propertyValue,
  sameType,
  unwrap,
  type ResourceDecl,
} from "./model.js";
import { allInstances, type Binding, type Instance } from "./modules.js";
import { locate, visit } from "./parse.js";
import { problem, type Location, type Problem } from "./problems.js";

/**
 * A deployment as the contract checks see it: the resources each module instance creates,
 * the function app's settings, and who a role assignment is for and what it grants.
 */

export type Setting = SettingEntry<Instance>;

/** A resource the deployment creates, in the module instance that declares it. */
export interface Deployed {
  instance: Instance;
  resource: ResourceDecl;
  /** Evaluated name, undefined when computed at deployment. */
  name: string | undefined;
}

const acrossModules: Resolver<Instance> = {
  resolve: (node, instance) => {
    const bound = resolveBinding(node, instance);
    return { node: bound.node, context: bound.instance };
  },
  text: (node, instance) => evaluateString(node, instance),
};

/** What a deployment creates and the settings its function app gets, evaluated once. */
export class Deployment {
  readonly problems: Problem[] = [];
  readonly entryAt: Location;
  private readonly deployed: Deployed[];
  /** App settings by name; a name may be written more than once (e.g. in both ternary branches). */
  readonly settings = new Map<string, Setting[]>();

  constructor(root: Instance) {
    const instances = allInstances(root);
    this.entryAt = { file: root.model.file.path, line: 1, column: 1 };
    this.deployed = instances.flatMap((instance) =>
      instance.model.resources
        .filter((r) => !r.existing)
        .map((resource) => {
          const nameNode = propertyPath(resource.body, "name");
          return { instance, resource, name: nameNode ? evaluateString(nameNode, instance) : undefined };
        }),
    );
    for (const instance of instances) {
      for (const source of appSettingSources(instance.model)) {
        const collected = collectSettings(source.node, instance, acrossModules);
        for (const setting of collected.entries) {
          if (setting.name) this.settings.set(setting.name, [...(this.settings.get(setting.name) ?? []), setting]);
        }
        for (const unknown of collected.unresolved) {
          this.report(
            "unresolved-settings",
            locate(unknown.context.model.file, unknown.node),
            `cannot tell which app settings \`${unknown.node.text.slice(0, 40)}\` provides`,
          );
        }
      }
    }
  }

  report(code: string, where: Location, message: string): void {
    this.problems.push(problem("contract", code, where, message));
  }

  ofType(type: string): Deployed[] {
    return this.deployed.filter((d) => sameType(d.resource.type, type));
  }

  at(d: Deployed, node?: Node | null): Location {
    return locate(d.instance.model.file, node ?? d.resource.node);
  }

  /** Where to report a problem about the app as a whole: its first site, else the entry file. */
  appAt(): Location {
    const app = this.ofType("Microsoft.Web/sites")[0];
    return app ? this.at(app) : this.entryAt;
  }

  settingAt(setting: Setting): Location {
    return locate(setting.atContext.model.file, setting.at);
  }

  /** The setting if it is always present (not only under a condition). */
  always(name: string): Setting | undefined {
    return (this.settings.get(name) ?? []).find((s) => !s.conditional);
  }

  /** `'value'`, or a phrase saying the value is computed at deployment. */
  describeValue(setting: Setting): string {
    const value = setting.value ? evaluateString(setting.value, setting.context) : undefined;
    return value === undefined ? "not known before deployment" : `'${value}'`;
  }

  namesOf(found: Deployed[]): string {
    return found.map((d) => d.name ?? "(computed)").join(", ") || "none";
  }

  /** The created resource a declaration stands for: itself, or the one an `existing` declaration names. */
  deployedAs(declared: Declared): Deployed | undefined {
    const all = this.ofType(declared.resource.type);
    if (!declared.resource.existing) return all.find((d) => d.resource === declared.resource && d.instance === declared.instance);
    const nameNode = propertyPath(declared.resource.body, "name");
    const name = nameNode ? evaluateString(nameNode, declared.instance) : undefined;
    return name === undefined ? undefined : all.find((d) => d.name === name);
  }

  /** The created resources of `type` an expression reads from, followed through variables, parameters and module outputs. */
  behind(node: Node, instance: Instance, type: string): Deployed[] {
    const found = new Map<ResourceDecl, Deployed>();
    for (const declared of referencedResources(node, instance, type)) {
      const resource = this.deployedAs(declared);
      if (resource) found.set(resource.resource, resource);
    }
    return [...found.values()];
  }
}

/** A resource declaration (created or `existing`) in the instance that declares it. */
export interface Declared {
  instance: Instance;
  resource: ResourceDecl;
}

/** The resource a symbol (`account`, `account::blobs::files`) names in an instance. */
export function declaredBy(node: Node, instance: Instance): Declared | undefined {
  const expr = unwrap(node);
  const symbol =
    expr.type === "resource_expression" ? expr.childForFieldName("resource")?.text : expr.type === "identifier" ? expr.text : undefined;
  const resource = symbol ? instance.model.resources.find((r) => r.symbol === symbol) : undefined;
  return resource ? { instance, resource } : undefined;
}

/** The enclosing resource of a nested declaration, or the one `parent:` names. */
export function parentOf(declared: Declared): Declared | undefined {
  if (declared.resource.enclosing) return { instance: declared.instance, resource: declared.resource.enclosing };
  const parent = propertyValue(declared.resource.body, "parent");
  return parent ? declaredBy(parent, declared.instance) : undefined;
}

/**
 * The resources of `type` an expression reads from (`account.properties.primaryEndpoints.blob`,
 * `account.name`, `domain.id`...), followed through variables, parameters and module outputs.
 */
export function referencedResources(node: Node, instance: Instance, type: string, depth = 0): Declared[] {
  if (depth > 32) return [];
  const { node: expr, instance: where } = resolveBinding(node, instance);
  const found: Declared[] = [];
  visit(expr, (n) => {
    // `key: value`: the key names nothing.
    if (n.parent?.type === "object_property" && n.parent.namedChildren[0]?.id === n.id) return false;
    if (n.type === "member_expression") {
      const object = n.childForFieldName("object");
      if (object?.type === "member_expression" && object.childForFieldName("property")?.text === "outputs") {
        found.push(...referencedResources(n, where, type, depth + 1));
        return false;
      }
      return true;
    }
    if (n.type !== "identifier") return true;
    // The callee of a call is a function, not a symbol.
    if (n.parent?.type === "call_expression" && n.parent.childForFieldName("function")?.id === n.id) return false;
    const resource = where.model.resources.find((r) => r.symbol === n.text);
    if (resource) {
      if (sameType(resource.type, type)) found.push({ instance: where, resource });
    } else if (n.id !== expr.id && (where.model.vars.has(n.text) || where.model.params.has(n.text))) {
      found.push(...referencedResources(n, where, type, depth + 1));
    }
    return false;
  });
  return found;
}

export const ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments";
export const ROLE_DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions";
export const IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities";

/** A user-assigned identity declared in the deployment: its declaration in its module instance. */
export interface IdentityRef {
  instance: Instance;
  resource: ResourceDecl;
}

export function sameIdentity(a: IdentityRef, b: IdentityRef): boolean {
  return a.instance === b.instance && a.resource === b.resource;
}

/** The identity `<identity>.properties.principalId` (or `.clientId`) names, followed through parameters and outputs. */
export function identityOf(node: Node, instance: Instance, property: "principalId" | "clientId"): IdentityRef | undefined {
  const { node: expr, instance: where } = resolveBinding(node, instance);
  if (expr.type !== "member_expression" || expr.childForFieldName("property")?.text !== property) return undefined;
  const object = expr.childForFieldName("object");
  if (object?.type !== "member_expression" || object.childForFieldName("property")?.text !== "properties") return undefined;
  const symbol = object.childForFieldName("object")?.text;
  const resource = where.model.resources.find((r) => r.symbol === symbol && sameType(r.type, IDENTITY_TYPE));
  return resource ? { instance: where, resource } : undefined;
}

/** Functions that build a resource id: the role definition id is their last argument. */
export const RESOURCE_ID_FUNCTIONS = new Set([
  "subscriptionResourceId",
  "resourceId",
  "tenantResourceId",
  "extensionResourceId",
  "managementGroupResourceId",
]);

/**
 * The role definition ids an assignment grants: `subscriptionResourceId(..., id)` or a
 * role definition resource id, its id followed through variables and parameters; in a loop
 * `[for id in [a, b]: ...]` or `[for role in items({ a: id1, b: id2 }): ... role.value]`,
 * every id the loop goes through.
 */
export function roleIdsOf(assignment: Deployed): string[] {
  const node = propertyPath(assignment.resource.body, "properties", "roleDefinitionId");
  if (!node) return [];
  const { node: expr, instance } = resolveBinding(node, assignment.instance);
  const id = expr.type === "call_expression" && RESOURCE_ID_FUNCTIONS.has(calleeName(expr) ?? "") ? callArguments(expr).at(-1) : expr;
  if (!id) return [];
  const loop = loopOver(assignment.resource.node, assignment.instance);
  const values =
    loop && isLoopItem(unwrap(id), loop)
      ? loop.items.map((item) => evaluateString(item.node, item.instance))
      : [evaluateString(id, instance)];
  return values.flatMap((v) => {
    const guid = v?.match(/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i)?.[1];
    return guid ? [guid.toLowerCase()] : [];
  });
}

interface Loop {
  variable: string;
  /** What the variable goes through: array items, or the values of `items(object)`. */
  items: Binding[];
  /** `items(object)`: each item is `{ key, value }`, read as `<variable>.value`. */
  entries: boolean;
}

/** `x` in `[for x in [a, b]: ...]`, or `x.value` in `[for x in items({...}): ...]`. */
function isLoopItem(expr: Node, loop: Loop): boolean {
  if (!loop.entries) return expr.type === "identifier" && expr.text === loop.variable;
  return (
    expr.type === "member_expression" &&
    expr.childForFieldName("object")?.text === loop.variable &&
    expr.childForFieldName("property")?.text === "value"
  );
}

/** `[for x in [a, b]: ...]` or `[for x in items(object)]`, array and object followed through variables; undefined for any other loop. */
export function loopOver(declaration: Node, instance: Instance): Loop | undefined {
  const loop = declaration.namedChildren[declaration.namedChildren.length - 1];
  if (loop?.type !== "for_statement") return undefined;
  const variable = loop.childForFieldName("initializer");
  const children = loop.children;
  const iterable = children[children.findIndex((c) => c.type === "in") + 1];
  if (variable?.type !== "identifier" || !iterable) return undefined;
  const iterated = unwrap(iterable);
  const [object] = iterated.type === "call_expression" && calleeName(iterated) === "items" ? callArguments(iterated) : [];
  const { node: target, instance: where } = resolveBinding(object ?? iterated, instance);
  if (object && target.type === "object") {
    return { variable: variable.text, entries: true, items: objectEntries(target).map((e) => ({ node: e.value, instance: where })) };
  }
  if (!object && target.type === "array") {
    return { variable: variable.text, entries: false, items: namedItems(target).map((node) => ({ node, instance: where })) };
  }
  return undefined;
}

// ---- what a role grants ----

/** A role's permissions, as role definitions write them (`*` a wildcard). */
export interface RolePermissions {
  name: string;
  actions: readonly string[];
  dataActions: readonly string[];
}

/** The role definition a `<definition>.id` names, when the deployment declares it. */
export function roleDefinitionOf(node: Node, instance: Instance): Declared | undefined {
  const { node: expr, instance: where } = resolveBinding(node, instance);
  if (expr.type !== "member_expression" || expr.childForFieldName("property")?.text !== "id") return undefined;
  const target = declaredBy(expr.childForFieldName("object") ?? expr, where);
  return target && sameType(target.resource.type, ROLE_DEFINITION_TYPE) ? target : undefined;
}

/**
 * What an assignment grants: the permissions of the custom role it assigns, when the
 * deployment declares that role, else those of the built-in roles in `builtIn` it assigns (by
 * role definition id); roles known to neither grant nothing here.
 */
export function permissionsOf(assignment: Deployed, builtIn: Readonly<Record<string, RolePermissions>>): RolePermissions[] {
  const node = propertyPath(assignment.resource.body, "properties", "roleDefinitionId");
  const custom = node ? roleDefinitionOf(node, assignment.instance) : undefined;
  if (!custom) return roleIdsOf(assignment).flatMap((id) => (builtIn[id] ? [builtIn[id]] : []));
  const permissions = propertyPath(custom.resource.body, "properties", "permissions");
  const { node: list, instance } = permissions ? resolveBinding(permissions, custom.instance) : { node: null, instance: custom.instance };
  const entries = list?.type === "array" ? namedItems(list).map((item) => resolveBinding(item, instance)) : [];
  const read = (entry: Binding, key: string) => {
    const value = propertyValue(unwrap(entry.node), key);
    return value ? (evaluateStrings(value, entry.instance) ?? []) : [];
  };
  return entries.map((entry) => ({
    name: custom.resource.symbol,
    actions: read(entry, "actions"),
    dataActions: read(entry, "dataActions"),
  }));
}

/** Whether one of `patterns` covers `action`: `Microsoft.Storage/.../blobs/*` covers `.../blobs/tags/read`; comparisons ignore case. */
export function allows(patterns: readonly string[], action: string): boolean {
  return patterns.some((pattern) => {
    const regex = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`, "i");
    return regex.test(action);
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
