import type { Node } from "web-tree-sitter";
import {
  callArguments,
  calleeName,
  namedItems,
  objectEntries,
  propertyValue,
  resolveLocal,
  sameType,
  stringLiteral,
  unwrap,
  type BicepModel,
  type ResourceDecl,
} from "./model.js";

/**
 * The app settings a function app gets, read from `siteConfig.appSettings` (an array of
 * `{ name, value }`, possibly assembled with concat/union/flatten/filter, ternaries, loops
 * and variables) and from `Microsoft.Web/sites/config` resources named `appsettings` (an
 * object). How names and variables resolve is left to the caller: within one file for the
 * security check, across modules for the contract check.
 */

/** Resolves within one file: same-file variables followed, nothing else (no module parameters). */
export function localResolver(model: BicepModel): Resolver<null> {
  return {
    resolve: (node) => ({ node: resolveLocal(model, node), context: null }),
    text: (node) => stringLiteral(resolveLocal(model, node)),
  };
}

export interface Resolver<C> {
  /** The expression `node` stands for (following variables, parameters...). */
  resolve(node: Node, context: C): { node: Node; context: C };
  /** The string value of `node`, if known before deployment. */
  text(node: Node, context: C): string | undefined;
}

export interface SettingEntry<C> {
  /** Undefined when the name is computed at deployment. */
  name: string | undefined;
  /** The value expression (null if the entry has none). */
  value: Node | null;
  context: C;
  /** True when the entry is present only under a condition (ternary, filter, `if`). */
  conditional: boolean;
  /** Where the entry is written. */
  at: Node;
  atContext: C;
}

export interface CollectedSettings<C> {
  entries: SettingEntry<C>[];
  /** Expressions whose entries cannot be known before deployment. */
  unresolved: { node: Node; context: C }[];
}

/** Where settings are written for a web/function app in one file. */
export function appSettingSources(model: BicepModel): { resource: ResourceDecl; node: Node }[] {
  const sources: { resource: ResourceDecl; node: Node }[] = [];
  for (const resource of model.resources) {
    if (resource.existing || !resource.body) continue;
    if (sameType(resource.type, "Microsoft.Web/sites")) {
      const siteConfig = propertyValue(propertyValue(resource.body, "properties"), "siteConfig");
      const settings = siteConfig?.type === "object" ? propertyValue(siteConfig, "appSettings") : null;
      if (settings) sources.push({ resource, node: settings });
    }
    if (sameType(resource.type, "Microsoft.Web/sites/config")) {
      const name = propertyValue(resource.body, "name");
      const properties = propertyValue(resource.body, "properties");
      if (name && stringLiteral(name) === "appsettings" && properties) sources.push({ resource, node: properties });
    }
  }
  return sources;
}

const PASS_THROUGH = new Set(["concat", "union", "flatten", "items"]);

export function collectSettings<C>(
  node: Node,
  context: C,
  resolver: Resolver<C>,
  conditional = false,
  into: CollectedSettings<C> = { entries: [], unresolved: [] },
  depth = 0,
): CollectedSettings<C> {
  if (depth > 32) return into;
  const resolved = resolver.resolve(node, context);
  const expr = unwrap(resolved.node);
  const where = resolved.context;
  const recurse = (child: Node, isConditional: boolean) => collectSettings(child, where, resolver, isConditional, into, depth + 1);
  switch (expr.type) {
    case "array":
      for (const item of namedItems(expr)) {
        const element = resolver.resolve(item, where);
        if (unwrap(element.node).type === "object") addEntry(unwrap(element.node), element.context, resolver, conditional, into);
        else recurse(item, conditional);
      }
      return into;
    case "object":
      // A sites/config `appsettings` body: every key is a setting.
      for (const entry of objectEntries(expr)) {
        into.entries.push({
          name: entry.key ?? undefined,
          value: entry.value,
          context: where,
          conditional,
          at: entry.keyNode,
          atContext: where,
        });
      }
      return into;
    case "ternary_expression":
      for (const branch of [expr.childForFieldName("consequence"), expr.childForFieldName("alternative")]) {
        if (branch) recurse(branch, true);
      }
      return into;
    case "for_statement": {
      let body = expr.childForFieldName("body");
      let isConditional = conditional;
      if (body?.type === "if_statement") {
        isConditional = true;
        body = body.namedChildren.find((c) => c.type === "object") ?? null;
      }
      if (body) addEntry(body, where, resolver, isConditional, into);
      return into;
    }
    case "call_expression": {
      const name = calleeName(expr) ?? "";
      const args = callArguments(expr);
      if (PASS_THROUGH.has(name)) for (const arg of args) recurse(arg, conditional);
      // filter(list, predicate) keeps some entries of `list`: each one is conditional.
      else if (name === "filter" && args[0]) recurse(args[0], true);
      else into.unresolved.push({ node: expr, context: where });
      return into;
    }
    default:
      into.unresolved.push({ node: expr, context: where });
      return into;
  }
}

function addEntry<C>(object: Node, context: C, resolver: Resolver<C>, conditional: boolean, into: CollectedSettings<C>): void {
  const nameNode = propertyValue(object, "name");
  into.entries.push({
    name: nameNode ? resolver.text(nameNode, context) : undefined,
    value: propertyValue(object, "value"),
    context,
    conditional,
    at: object,
    atContext: context,
  });
}

/** `@Microsoft.KeyVault(SecretUri=...)` or `@Microsoft.KeyVault(VaultName=...;SecretName=...)`. */
export function isKeyVaultReferenceText(text: string): boolean {
  return /^@Microsoft\.KeyVault\((SecretUri=|VaultName=)/.test(text);
}
