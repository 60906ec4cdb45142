import type { Node } from "web-tree-sitter";
import type { BicepFile } from "./parse.js";

/**
 * The declarations of one .bicep file, read from its syntax tree: what the other checks
 * reason about. Expressions stay as tree nodes; evaluate.ts and values.ts interpret them.
 */

export interface ParamDecl {
  name: string;
  node: Node;
  defaultValue: Node | null;
  secure: boolean;
}

export interface ResourceDecl {
  symbol: string;
  node: Node;
  /** Full type without the version, e.g. `Microsoft.Web/sites/config`. */
  type: string;
  /** Null when the type string carries none (only legal for nested resources). */
  apiVersion: string | null;
  existing: boolean;
  /** The resource body, after unwrapping `for` and `if`; null if it is not an object literal. */
  body: Node | null;
  conditional: boolean;
  looped: boolean;
  /** The resource this one is declared inside (nested `resource`), if any. */
  enclosing: ResourceDecl | null;
}

export interface ModuleDecl {
  symbol: string;
  node: Node;
  /** The path string as written, e.g. `modules/cosmos.bicep` or `br/public:...`. */
  path: string | null;
  pathNode: Node;
  body: Node | null;
  conditional: boolean;
  looped: boolean;
}

export interface OutputDecl {
  name: string;
  node: Node;
  value: Node | null;
}

export interface BicepModel {
  file: BicepFile;
  params: Map<string, ParamDecl>;
  vars: Map<string, Node>;
  resources: ResourceDecl[];
  modules: ModuleDecl[];
  outputs: OutputDecl[];
}

const models = new WeakMap<BicepFile, BicepModel>();

export function modelOf(file: BicepFile): BicepModel {
  let model = models.get(file);
  if (!model) {
    model = readModel(file);
    models.set(file, model);
  }
  return model;
}

function readModel(file: BicepFile): BicepModel {
  const model: BicepModel = { file, params: new Map(), vars: new Map(), resources: [], modules: [], outputs: [] };
  for (const node of file.root.namedChildren) {
    const name = node.namedChildren.find((c) => c.type === "identifier")?.text;
    switch (node.type) {
      case "parameter_declaration": {
        if (!name) break;
        const typeNode = node.namedChildren.find((c) => c.type === "type");
        const afterType = typeNode ? node.namedChildren.slice(node.namedChildren.indexOf(typeNode) + 1) : [];
        model.params.set(name, {
          name,
          node,
          defaultValue: afterType[0] ?? null,
          secure: decoratorNames(node).includes("secure"),
        });
        break;
      }
      case "variable_declaration": {
        const value = node.namedChildren[1];
        if (name && value) model.vars.set(name, value);
        break;
      }
      case "resource_declaration":
        readResource(node, null, model.resources);
        break;
      case "module_declaration": {
        const pathNode = node.namedChildren.find((c) => c.type === "string");
        if (!name || !pathNode) break;
        const shape = unwrapDeclarationBody(node);
        model.modules.push({ symbol: name, node, path: stringLiteral(pathNode) ?? null, pathNode, ...shape });
        break;
      }
      case "output_declaration": {
        const children = node.namedChildren;
        // output <name> <type> = <value>: the value is the last named child.
        const value = children.length >= 3 ? (children[children.length - 1] ?? null) : null;
        if (name) model.outputs.push({ name, node, value });
        break;
      }
    }
  }
  return model;
}

function readResource(node: Node, enclosing: ResourceDecl | null, into: ResourceDecl[]): void {
  const symbol = node.namedChildren.find((c) => c.type === "identifier")?.text;
  const typeNode = node.namedChildren.find((c) => c.type === "string");
  const typeText = typeNode ? stringLiteral(typeNode) : undefined;
  if (!symbol || typeText === undefined) return;
  const [typePart = "", version] = typeText.split("@");
  // A nested resource may name only its own segment and inherit the enclosing version.
  const type = enclosing && !typePart.includes("/") ? `${enclosing.type}/${typePart}` : typePart;
  const apiVersion = version ?? (enclosing && !typePart.includes("/") ? enclosing.apiVersion : null);
  const shape = unwrapDeclarationBody(node);
  const decl: ResourceDecl = {
    symbol,
    node,
    type,
    apiVersion,
    existing: node.children.some((c) => c.type === "existing"),
    ...shape,
    enclosing,
  };
  into.push(decl);
  if (decl.body) {
    for (const prop of decl.body.namedChildren) {
      const nested = prop.type === "object_property" ? prop.namedChildren.find((c) => c.type === "resource_declaration") : undefined;
      if (nested) readResource(nested, decl, into);
    }
  }
}

/** The object of `= {..}`, `= if (c) {..}`, `= [for x in y: {..}]` or `= [for ...: if (c) {..}]`. */
function unwrapDeclarationBody(node: Node): { body: Node | null; conditional: boolean; looped: boolean } {
  let conditional = false;
  let looped = false;
  let current: Node | undefined = node.namedChildren[node.namedChildren.length - 1];
  if (current?.type === "for_statement") {
    looped = true;
    current = current.childForFieldName("body") ?? undefined;
  }
  if (current?.type === "if_statement") {
    conditional = true;
    current = current.namedChildren.find((c) => c.type === "object");
  }
  return { body: current?.type === "object" ? current : null, conditional, looped };
}

/** Names of the decorators written just above a declaration (`@secure()` gives `secure`). */
export function decoratorNames(declaration: Node): string[] {
  let previous = declaration.previousNamedSibling;
  while (previous?.type === "comment") previous = previous.previousNamedSibling;
  if (previous?.type !== "decorators") return [];
  return previous.namedChildren.map((d) => {
    const call = d.namedChildren[0];
    const fn = call?.childForFieldName("function") ?? call;
    // `@sys.secure()` is the same decorator as `@secure()`.
    return (fn?.type === "member_expression" ? fn.childForFieldName("property")?.text : fn?.text) ?? "";
  });
}

export interface ObjectEntry {
  /** Null when the key is computed (`'${x}': ...`). */
  key: string | null;
  keyNode: Node;
  value: Node;
  property: Node;
}

/** The key/value pairs of an object literal, leaving out nested resource declarations. */
export function objectEntries(object: Node): ObjectEntry[] {
  const entries: ObjectEntry[] = [];
  for (const property of object.namedChildren) {
    if (property.type !== "object_property") continue;
    const children = namedItems(property);
    const [keyNode, value] = children;
    if (!keyNode || !value || keyNode.type === "resource_declaration") continue;
    // A quoted key is a string (null if interpolated); identifiers are their own text.
    const key = keyNode.type === "string" ? (stringLiteral(keyNode) ?? null) : keyNode.text;
    entries.push({ key, keyNode, value, property });
  }
  return entries;
}

/** The value written for `key` in an object literal (after unwrapping parentheses). */
export function propertyValue(object: Node | null, key: string): Node | null {
  if (!object || object.type !== "object") return null;
  const entry = objectEntries(object).find((e) => e.key === key);
  return entry ? unwrap(entry.value) : null;
}

/** Follows a dotted path of properties through nested object literals. */
export function propertyPath(object: Node | null, ...keys: string[]): Node | null {
  let current = object;
  for (const key of keys) current = propertyValue(current, key);
  return current;
}

/** Named children that are part of the expression: comments and decorators left out. */
export function namedItems(node: Node): Node[] {
  return node.namedChildren.filter((c) => !NOT_ITEMS.has(c.type));
}

const NOT_ITEMS = new Set(["comment", "diagnostic_comment", "decorators"]);

export function unwrap(node: Node): Node {
  let current = node;
  while (current.type === "parenthesized_expression" && current.namedChildren[0]) current = current.namedChildren[0];
  return current;
}

/** The value of a string without interpolation, or undefined. */
export function stringLiteral(node: Node): string | undefined {
  if (node.type !== "string") return undefined;
  let value = "";
  for (const part of node.namedChildren) {
    const piece = literalPiece(part);
    if (piece === undefined) return undefined;
    value += piece;
  }
  return value;
}

/** The text of a literal part of a string (content or escape), undefined for an interpolation. */
export function literalPiece(part: Node): string | undefined {
  if (part.type === "string_content") return part.text;
  if (part.type === "escape_sequence") return unescape(part.text);
  return undefined;
}

function unescape(sequence: string): string {
  switch (sequence) {
    case "\\n":
      return "\n";
    case "\\r":
      return "\r";
    case "\\t":
      return "\t";
    case "\\$":
      return "$";
    default:
      if (sequence.startsWith("\\u{")) return String.fromCodePoint(parseInt(sequence.slice(3, -1), 16));
      return sequence.slice(1);
  }
}

/** The text a string starts with before its first interpolation (`'@Microsoft.KeyVault(...${x})'`). */
export function stringPrefix(node: Node): string | undefined {
  if (node.type !== "string") return undefined;
  let value = "";
  for (const part of node.namedChildren) {
    const piece = literalPiece(part);
    if (piece === undefined) break;
    value += piece;
  }
  return value;
}

/** Name of the function a call expression calls (`listKeys` for `account.listKeys()`). */
export function calleeName(call: Node): string | undefined {
  const fn = call.childForFieldName("function");
  if (!fn) return undefined;
  if (fn.type === "member_expression") return fn.childForFieldName("property")?.text;
  return fn.text;
}

export function callArguments(call: Node): Node[] {
  const args = call.childForFieldName("arguments");
  return args ? namedItems(args) : [];
}

/**
 * The expression a same-file variable stands for, followed through chains of variables.
 * Parameters and anything else come back unchanged.
 */
export function resolveLocal(model: BicepModel, node: Node): Node {
  let current = unwrap(node);
  const seen = new Set<string>();
  while (current.type === "identifier" && model.vars.has(current.text) && !seen.has(current.text)) {
    seen.add(current.text);
    current = unwrap(model.vars.get(current.text) as Node);
  }
  return current;
}

/** Walks an object path, following same-file variables at every step. */
export function lookupPath(model: BicepModel, body: Node | null, keys: readonly string[]): Node | null {
  let current = body;
  for (const key of keys) {
    if (!current) return null;
    current = propertyValue(resolveLocal(model, current), key);
  }
  return current ? resolveLocal(model, current) : null;
}

export function sameType(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
