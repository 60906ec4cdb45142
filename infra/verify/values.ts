import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Node } from "web-tree-sitter";
import { callArguments, calleeName, namedItems, objectEntries, stringLiteral, unwrap, type BicepModel } from "./model.js";
import { locate } from "./parse.js";
import type { Location } from "./problems.js";

/**
 * What a Bicep expression is known to be before deployment, as far as a schema check cares:
 * literal shapes are kept, every branch of a ternary is kept, and anything computed at
 * deployment time is `opaque` (accepted by every type). JSON pulled in with
 * `loadJsonContent('...')` is read and checked like a literal written in place.
 */
export type Value =
  | { kind: "object"; at: Location; entries: Entry[] }
  | { kind: "array"; at: Location; items: Value[] }
  | { kind: "string"; at: Location; value: string }
  /** A string whose value depends on an interpolation. */
  | { kind: "text"; at: Location }
  | { kind: "number"; at: Location; value: number }
  | { kind: "boolean"; at: Location }
  | { kind: "null"; at: Location }
  | { kind: "either"; at: Location; options: Value[] }
  | { kind: "opaque"; at: Location }
  /** An expression that cannot be what it claims (e.g. a JSON file that is missing). */
  | { kind: "invalid"; at: Location; message: string };

export interface Entry {
  /** Null when the key is computed at deployment. */
  key: string | null;
  at: Location;
  value: Value;
}

export function valueOf(model: BicepModel, node: Node, seenVars: ReadonlySet<string> = new Set()): Value {
  const expr = unwrap(node);
  const at = locate(model.file, expr);
  switch (expr.type) {
    case "object":
      return {
        kind: "object",
        at,
        entries: objectEntries(expr).map((e) => ({
          key: e.key,
          at: locate(model.file, e.keyNode),
          value: valueOf(model, e.value, seenVars),
        })),
      };
    case "array":
      return {
        kind: "array",
        at,
        items: namedItems(expr).map((c) => valueOf(model, c, seenVars)),
      };
    case "for_statement": {
      // `[for x in xs: body]` is an array of bodies.
      let body = expr.childForFieldName("body");
      if (body?.type === "if_statement") body = body.namedChildren.find((c) => c.type === "object") ?? null;
      return { kind: "array", at, items: body ? [valueOf(model, body, seenVars)] : [] };
    }
    case "string": {
      const value = stringLiteral(expr);
      return value === undefined ? { kind: "text", at } : { kind: "string", at, value };
    }
    case "number":
      return { kind: "number", at, value: Number(expr.text) };
    case "unary_expression": {
      const argument = expr.childForFieldName("argument");
      if (expr.childForFieldName("operator")?.text === "-" && argument?.type === "number")
        return { kind: "number", at, value: -Number(argument.text) };
      return { kind: "opaque", at };
    }
    case "boolean":
      return { kind: "boolean", at };
    case "null":
      return { kind: "null", at };
    case "ternary_expression": {
      const branches = [expr.childForFieldName("consequence"), expr.childForFieldName("alternative")];
      return { kind: "either", at, options: branches.flatMap((b) => (b ? [valueOf(model, b, seenVars)] : [])) };
    }
    case "identifier": {
      const declared = model.vars.get(expr.text);
      if (declared && !seenVars.has(expr.text)) return valueOf(model, declared, new Set([...seenVars, expr.text]));
      return { kind: "opaque", at };
    }
    case "call_expression":
      if (calleeName(expr) === "loadJsonContent") return loadedJson(model, expr, at);
      return { kind: "opaque", at };
    default:
      return { kind: "opaque", at };
  }
}

/** `loadJsonContent('file.json')` (path relative to the .bicep file), or opaque if computed. */
function loadedJson(model: BicepModel, call: Node, at: Location): Value {
  const [first, jsonPath] = callArguments(call);
  const relative = first ? stringLiteral(unwrap(first)) : undefined;
  // With a JSONPath argument only part of the file is loaded: not modelled, accept it.
  if (relative === undefined || jsonPath) return { kind: "opaque", at };
  const file = path.resolve(path.dirname(model.file.path), relative);
  if (!existsSync(file)) return { kind: "invalid", at, message: `loadJsonContent: no file ${relative}` };
  try {
    return jsonValue(JSON.parse(readFileSync(file, "utf8")), at);
  } catch (error) {
    return { kind: "invalid", at, message: `loadJsonContent: ${relative} is not JSON (${(error as Error).message})` };
  }
}

/** JSON has no positions worth reporting inside the file: problems point at the call. */
export function jsonValue(json: unknown, at: Location): Value {
  if (json === null) return { kind: "null", at };
  if (Array.isArray(json)) return { kind: "array", at, items: json.map((item) => jsonValue(item, at)) };
  switch (typeof json) {
    case "string":
      return { kind: "string", at, value: json };
    case "number":
      return { kind: "number", at, value: json };
    case "boolean":
      return { kind: "boolean", at };
    case "object":
      return {
        kind: "object",
        at,
        entries: Object.entries(json as Record<string, unknown>).map(([key, value]) => ({ key, at, value: jsonValue(value, at) })),
      };
    default:
      return { kind: "opaque", at };
  }
}
