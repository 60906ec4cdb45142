import { modelOf, propertyValue, type BicepModel, type ResourceDecl } from "./model.js";
import { locate, type BicepFile } from "./parse.js";
import { problem, type Location, type Problem } from "./problems.js";
import { Flags, type Property, type Ref, type ResourceSchemas, type TypeRef } from "./schemas.js";
import { valueOf, type Entry, type Value } from "./values.js";

/**
 * Every resource against the published Azure schemas: the type and API version exist, every
 * property written exists (recursively through objects and arrays), none is read-only,
 * required ones are present, and string literals are among the allowed values. Only what is
 * known before deployment is judged; computed expressions are accepted as they are.
 */
export function checkResources(files: readonly BicepFile[], schemas: ResourceSchemas): Problem[] {
  const problems: Problem[] = [];
  for (const file of files) {
    const model = modelOf(file);
    for (const resource of model.resources) problems.push(...checkResource(model, resource, schemas));
  }
  return problems;
}

/** Keys Bicep accepts in a resource body besides the schema's own properties. */
const BICEP_RESOURCE_KEYWORDS = new Set(["parent", "scope", "dependsOn"]);

function checkResource(model: BicepModel, resource: ResourceDecl, schemas: ResourceSchemas): Problem[] {
  const at = locate(model.file, resource.node);
  if (!resource.apiVersion) {
    return [problem("schema", "unknown-api-version", at, `${resource.type} has no API version`)];
  }
  const label = `${resource.type}@${resource.apiVersion}`;
  const body = schemas.lookup(resource.type, resource.apiVersion);
  const problems: Problem[] = [];
  if (!body) {
    const versions = schemas.versionsOf(resource.type);
    problems.push(
      versions.length > 0
        ? problem("schema", "unknown-api-version", at, `${label}: API version not in the schemas (defined: ${versions.join(", ")})`)
        : problem("schema", "unknown-type", at, `${label}: resource type not in the schemas`),
    );
  }
  problems.push(...checkParent(model, resource));
  // An `existing` resource only reads what is there: its body is a name, not a definition.
  if (!body || resource.existing || !resource.body) return problems;
  const checker = new ValueChecker(label);
  checker.check(valueOf(model, resource.body), body, "", true);
  return [...problems, ...checker.problems];
}

/** `parent: x` must name a resource whose type is this one's minus the last segment. */
function checkParent(model: BicepModel, resource: ResourceDecl): Problem[] {
  const parentNode = propertyValue(resource.body, "parent");
  if (!parentNode) return [];
  // `account::database` refers to a nested resource: its own symbol is the last one.
  const symbol = parentNode.type === "resource_expression" ? parentNode.childForFieldName("resource")?.text : parentNode.text;
  const parent = model.resources.find((r) => r.symbol === symbol);
  if (!parent) return [];
  const expected = resource.type.split("/").slice(0, -1).join("/");
  if (parent.type.toLowerCase() === expected.toLowerCase()) return [];
  return [
    problem(
      "schema",
      "parent-type",
      locate(model.file, parentNode),
      `${resource.type}: parent ${parent.symbol} is a ${parent.type}, expected a ${expected}`,
    ),
  ];
}

class ValueChecker {
  readonly problems: Problem[] = [];

  constructor(private readonly label: string) {}

  private report(code: string, at: Location, message: string): void {
    this.problems.push(problem("schema", code, at, `${this.label}: ${message}`));
  }

  check(value: Value, type: TypeRef, path: string, isBody = false): void {
    const node = type.node;
    if (value.kind === "opaque" || value.kind === "null" || node.$type === "AnyType" || node.$type === "Unsupported") return;
    if (value.kind === "invalid") return this.report("invalid-value", value.at, `${where(path)}${value.message}`);
    if (value.kind === "either") {
      for (const option of value.options) this.check(option, type, path, isBody);
      return;
    }
    switch (node.$type) {
      case "ObjectType":
        if (value.kind !== "object") return this.mismatch(value, "an object", path);
        return this.checkObject(value, type, node.properties, node.additionalProperties, path, isBody, true);
      case "DiscriminatedObjectType":
        if (value.kind !== "object") return this.mismatch(value, "an object", path);
        return this.checkDiscriminated(value, type, path, isBody);
      case "ArrayType":
        if (value.kind !== "array") return this.mismatch(value, "an array", path);
        for (const item of value.items) this.check(item, type.file.deref(node.itemType), `${path}[]`);
        return;
      case "StringLiteralType":
        return this.checkString(value, [node.value], false, path);
      case "StringType":
        if (value.kind !== "string" && value.kind !== "text") return this.mismatch(value, "a string", path);
        if (value.kind === "string") {
          if (node.minLength !== undefined && value.value.length < node.minLength)
            this.report("out-of-range", value.at, `${where(path)}'${value.value}' is shorter than ${node.minLength}`);
          if (node.maxLength !== undefined && value.value.length > node.maxLength)
            this.report("out-of-range", value.at, `${where(path)}'${value.value}' is longer than ${node.maxLength}`);
        }
        return;
      case "IntegerType":
        if (value.kind !== "number") return this.mismatch(value, "an integer", path);
        if ((node.minValue !== undefined && value.value < node.minValue) || (node.maxValue !== undefined && value.value > node.maxValue))
          this.report(
            "out-of-range",
            value.at,
            `${where(path)}${value.value} is outside ${node.minValue ?? "-∞"}..${node.maxValue ?? "∞"}`,
          );
        return;
      case "BooleanType":
        if (value.kind !== "boolean") return this.mismatch(value, "a boolean", path);
        return;
      case "NullType":
        return;
      case "UnionType":
        return this.checkUnion(
          value,
          node.elements.map((e) => type.file.deref(e)),
          path,
          isBody,
        );
      case "ResourceType":
        return;
    }
  }

  private checkUnion(value: Value, members: TypeRef[], path: string, isBody: boolean): void {
    if (members.some((m) => m.node.$type === "AnyType" || m.node.$type === "Unsupported")) return;
    if (value.kind === "string" || value.kind === "text") {
      const literals = members.flatMap((m) => (m.node.$type === "StringLiteralType" ? [m.node.value] : []));
      const open = members.some((m) => m.node.$type === "StringType");
      if (!open && literals.length === 0) return this.mismatch(value, describeMembers(members), path);
      return this.checkString(value, literals, open, path);
    }
    const wanted: Record<Value["kind"], readonly string[]> = {
      object: ["ObjectType", "DiscriminatedObjectType"],
      array: ["ArrayType"],
      number: ["IntegerType"],
      boolean: ["BooleanType"],
      string: [],
      text: [],
      null: [],
      either: [],
      opaque: [],
      invalid: [],
    };
    const candidates = members.filter((m) => wanted[value.kind].includes(m.node.$type));
    if (candidates.length === 0) return this.mismatch(value, describeMembers(members), path);
    // Several object shapes: the value is fine if it fits one of them; otherwise report
    // against the closest fit.
    let best: Problem[] | undefined;
    for (const candidate of candidates) {
      const trial = new ValueChecker(this.label);
      trial.check(value, candidate, path, isBody);
      if (trial.problems.length === 0) return;
      if (!best || trial.problems.length < best.length) best = trial.problems;
    }
    this.problems.push(...(best ?? []));
  }

  private checkString(value: Value, allowed: readonly string[], open: boolean, path: string): void {
    if (value.kind === "text") return;
    if (value.kind !== "string") return this.mismatch(value, "a string", path);
    if (open || allowed.includes(value.value)) return;
    this.report(
      "bad-literal",
      value.at,
      `${where(path)}'${value.value}' is not an allowed value (${allowed.map((a) => `'${a}'`).join(", ")})`,
    );
  }

  private checkDiscriminated(value: Extract<Value, { kind: "object" }>, type: TypeRef, path: string, isBody: boolean): void {
    const node = type.node;
    if (node.$type !== "DiscriminatedObjectType") return;
    const tag = value.entries.find((e) => e.key === node.discriminator)?.value;
    if (tag?.kind === "string") {
      const elementRef = node.elements[tag.value];
      if (!elementRef) {
        const allowed = Object.keys(node.elements)
          .map((k) => `'${k}'`)
          .join(", ");
        return this.report("bad-literal", tag.at, `${where(join(path, node.discriminator))}'${tag.value}' is not one of ${allowed}`);
      }
      const element = type.file.deref(elementRef);
      if (element.node.$type !== "ObjectType") return;
      const properties = { ...node.baseProperties, ...element.node.properties };
      return this.checkObject(value, element, properties, element.node.additionalProperties, path, isBody, true);
    }
    // Discriminator computed at deployment: accept any variant's properties, require only shared ones.
    const properties: Record<string, Property> = { ...node.baseProperties };
    for (const ref of Object.values(node.elements)) {
      const element = type.file.deref(ref);
      if (element.node.$type === "ObjectType") Object.assign(properties, { ...element.node.properties, ...properties });
    }
    const required = new Set(Object.keys(node.baseProperties));
    this.checkObject(value, type, properties, undefined, path, isBody, false, required);
  }

  private checkObject(
    value: Extract<Value, { kind: "object" }>,
    type: TypeRef,
    properties: Record<string, Property>,
    additional: Ref | undefined,
    path: string,
    isBody: boolean,
    enforceRequired: boolean,
    requiredAmong?: ReadonlySet<string>,
  ): void {
    for (const entry of value.entries) {
      if (entry.key === null) continue;
      if (isBody && BICEP_RESOURCE_KEYWORDS.has(entry.key)) continue;
      this.checkEntry(entry, type, properties, additional, path);
    }
    // A computed key might be any property: requiring others would guess.
    if (!enforceRequired && !requiredAmong) return;
    if (value.entries.some((e) => e.key === null)) return;
    const written = new Set(value.entries.map((e) => e.key));
    for (const [name, property] of Object.entries(properties)) {
      if (requiredAmong && !requiredAmong.has(name)) continue;
      if (property.flags & Flags.Required && !(property.flags & Flags.ReadOnly) && !written.has(name)) {
        this.report("missing-required", value.at, `${where(path)}required property '${name}' is missing`);
      }
    }
  }

  private checkEntry(entry: Entry, type: TypeRef, properties: Record<string, Property>, additional: Ref | undefined, path: string): void {
    const key = entry.key as string;
    const property = properties[key];
    const at = join(path, key);
    if (!property) {
      if (additional) return this.check(entry.value, type.file.deref(additional), at);
      const near = closest(key, Object.keys(properties));
      const hint = near ? ` (did you mean '${near}'?)` : "";
      return this.report("unknown-property", entry.at, `'${at}' is not a property of ${typeName(type)}${hint}`);
    }
    if (property.flags & Flags.ReadOnly && !(property.flags & Flags.Required)) {
      return this.report("read-only", entry.at, `'${at}' is read-only and cannot be written`);
    }
    this.check(entry.value, type.file.deref(property.type), at);
  }

  private mismatch(value: Value, expected: string, path: string): void {
    this.report("type-mismatch", value.at, `${where(path)}expected ${expected}, found ${describe(value)}`);
  }
}

/** The property a typo most likely meant: same letters ignoring case, or at most two edits away. */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function where(path: string): string {
  return path ? `${path}: ` : "";
}

function typeName(type: TypeRef): string {
  const node = type.node;
  return (node.$type === "ObjectType" || node.$type === "DiscriminatedObjectType") && node.name ? node.name : "the body";
}

function describe(value: Value): string {
  switch (value.kind) {
    case "string":
      return `'${value.value}'`;
    case "number":
      return String(value.value);
    case "text":
      return "a string";
    default:
      return `a${value.kind === "object" || value.kind === "array" ? "n" : ""} ${value.kind}`;
  }
}

function describeMembers(members: TypeRef[]): string {
  return [...new Set(members.map((m) => m.node.$type))].join(" | ");
}
