import type { Node } from "web-tree-sitter";
import { callArguments, calleeName, literalPiece, namedItems, propertyValue, unwrap } from "./model.js";
import type { Binding, Instance } from "./modules.js";

/**
 * Static evaluation of the few expressions the contract check needs as plain strings
 * (resource names, setting values): literals, interpolations, variables, parameters (the
 * caller's argument, else the default), module outputs and a handful of string functions.
 * Anything decided at deployment (resource properties, uniqueString...) is undefined.
 */

const MAX_STEPS = 64;

/** Follows variables, parameters and module outputs to the expression that gives the value. */
export function resolveBinding(node: Node, instance: Instance): Binding {
  let current: Binding = { node: unwrap(node), instance };
  for (let step = 0; step < MAX_STEPS; step++) {
    const next = follow(current);
    if (!next) return current;
    current = { node: unwrap(next.node), instance: next.instance };
  }
  return current;
}

function follow({ node, instance }: Binding): Binding | undefined {
  const model = instance.model;
  if (node.type === "identifier") {
    const variable = model.vars.get(node.text);
    if (variable) return { node: variable, instance };
    const param = model.params.get(node.text);
    if (param) return instance.args.get(node.text) ?? (param.defaultValue ? { node: param.defaultValue, instance } : undefined);
    return undefined;
  }
  // module.outputs.name: the output's expression inside the module instance.
  if (node.type === "member_expression") {
    const object = node.childForFieldName("object");
    if (object?.type === "member_expression" && object.childForFieldName("property")?.text === "outputs") {
      const child = instance.children.get(object.childForFieldName("object")?.text ?? "");
      const output = child?.model.outputs.find((o) => o.name === node.childForFieldName("property")?.text);
      if (child && output?.value) return { node: output.value, instance: child };
    }
  }
  return undefined;
}

export function evaluateString(node: Node, instance: Instance, depth = 0): string | undefined {
  if (depth > MAX_STEPS) return undefined;
  const { node: expr, instance: where } = resolveBinding(node, instance);
  switch (expr.type) {
    case "string": {
      let value = "";
      for (const part of expr.namedChildren) {
        if (part.type === "interpolation") {
          const inner = part.namedChildren[0];
          const piece = inner ? evaluateString(inner, where, depth + 1) : undefined;
          if (piece === undefined) return undefined;
          value += piece;
        } else {
          value += literalPiece(part) ?? "";
        }
      }
      return value;
    }
    case "number":
      return expr.text;
    case "member_expression": {
      // `resource.name` of a resource declared in the same file is its written name.
      const property = expr.childForFieldName("property")?.text;
      const object = expr.childForFieldName("object");
      const resource = where.model.resources.find((r) => r.symbol === object?.text);
      const name = resource && property === "name" ? propertyValue(resource.body, "name") : null;
      return name ? evaluateString(name, where, depth + 1) : undefined;
    }
    case "ternary_expression": {
      const a = expr.childForFieldName("consequence");
      const b = expr.childForFieldName("alternative");
      const left = a ? evaluateString(a, where, depth + 1) : undefined;
      const right = b ? evaluateString(b, where, depth + 1) : undefined;
      return left !== undefined && left === right ? left : undefined;
    }
    case "call_expression": {
      const args = callArguments(expr).map((a) => evaluateString(a, where, depth + 1));
      if (args.some((a) => a === undefined)) return undefined;
      const values = args as string[];
      switch (calleeName(expr)) {
        case "toLower":
          return values[0]?.toLowerCase();
        case "toUpper":
          return values[0]?.toUpperCase();
        case "trim":
          return values[0]?.trim();
        case "string":
          return values[0];
        case "concat":
          return values.join("");
        default:
          return undefined;
      }
    }
    default:
      return undefined;
  }
}

/** An array literal of strings (e.g. partition key paths), or undefined. */
export function evaluateStrings(node: Node, instance: Instance): string[] | undefined {
  const { node: expr, instance: where } = resolveBinding(node, instance);
  if (expr.type !== "array") return undefined;
  const values = namedItems(expr).map((item) => evaluateString(item, where));
  return values.every((v) => v !== undefined) ? values : undefined;
}
