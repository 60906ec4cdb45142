import type { Node } from "web-tree-sitter";
import { appSettingSources, collectSettings, type Resolver, type SettingEntry } from "./appsettings.js";
import { evaluateString, resolveBinding } from "./evaluate.js";
import { callArguments, calleeName, namedItems, objectEntries, propertyPath, sameType, unwrap, type ResourceDecl } from "./model.js";
import { allInstances, type Binding, type Instance } from "./modules.js";
import { locate } from "./parse.js";
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
}

export const ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments";
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
