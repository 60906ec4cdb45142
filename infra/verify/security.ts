import path from "node:path";
import type { Node } from "web-tree-sitter";
import { appSettingSources, collectSettings, isKeyVaultReferenceText, localResolver } from "./appsettings.js";
import {
  callArguments,
  calleeName,
  modelOf,
  namedItems,
  lookupPath,
  objectEntries,
  propertyValue,
  resolveLocal,
  sameType,
  stringLiteral,
  stringPrefix,
  unwrap,
  type BicepModel,
} from "./model.js";
import { modulePath } from "./modules.js";
import { locate, visit, type BicepFile } from "./parse.js";
import { problem, type Problem } from "./problems.js";

/**
 * Security invariants of the templates, judged on what is written (a setting left to a
 * parameter could be anything, so it fails): no key-based auth, no anonymous access, HTTPS
 * only, TLS 1.2 or later, and no secret reaching an app setting or an output other than as a
 * Key Vault reference. The rules hold for every resource of their type: both storage accounts
 * (the host's and the attachments') are held to the same ones.
 */

interface Invariant {
  type: string;
  code: "local-auth" | "https-only" | "tls" | "public-access";
  path: readonly string[];
  allowed: readonly (string | boolean)[];
  /** True when leaving the property out is fine (the platform default is safe). */
  optional?: boolean;
  why: string;
}

export const INVARIANTS: readonly Invariant[] = [
  {
    type: "Microsoft.DocumentDB/databaseAccounts",
    code: "local-auth",
    path: ["properties", "disableLocalAuth"],
    allowed: [true],
    why: "account keys must not grant data access",
  },
  {
    type: "Microsoft.DocumentDB/databaseAccounts",
    code: "tls",
    path: ["properties", "minimalTlsVersion"],
    allowed: ["Tls12"],
    why: "TLS below 1.2 is refused",
  },
  {
    type: "Microsoft.ServiceBus/namespaces",
    code: "local-auth",
    path: ["properties", "disableLocalAuth"],
    allowed: [true],
    why: "SAS keys must not grant access",
  },
  {
    type: "Microsoft.ServiceBus/namespaces",
    code: "tls",
    path: ["properties", "minimumTlsVersion"],
    allowed: ["1.2", "1.3"],
    why: "TLS below 1.2 is refused",
  },
  {
    type: "Microsoft.Storage/storageAccounts",
    code: "local-auth",
    path: ["properties", "allowSharedKeyAccess"],
    allowed: [false],
    why: "account keys and SAS must not grant access",
  },
  {
    type: "Microsoft.Storage/storageAccounts",
    code: "tls",
    path: ["properties", "minimumTlsVersion"],
    allowed: ["TLS1_2", "TLS1_3"],
    why: "TLS below 1.2 is refused",
  },
  {
    // Left out, an account created before API 2023-01-01 keeps what it had: say it.
    type: "Microsoft.Storage/storageAccounts",
    code: "public-access",
    path: ["properties", "allowBlobPublicAccess"],
    allowed: [false],
    why: "no container may be opened to anonymous reads",
  },
  {
    type: "Microsoft.Storage/storageAccounts",
    code: "https-only",
    path: ["properties", "supportsHttpsTrafficOnly"],
    allowed: [true],
    optional: true,
    why: "plain HTTP requests must be refused",
  },
  {
    type: "Microsoft.Insights/components",
    code: "local-auth",
    path: ["properties", "DisableLocalAuth"],
    allowed: [true],
    why: "telemetry must come with an Entra ID token",
  },
  {
    type: "Microsoft.OperationalInsights/workspaces",
    code: "local-auth",
    path: ["properties", "features", "disableLocalAuth"],
    allowed: [true],
    why: "workspace keys must not grant ingestion",
  },
  {
    type: "Microsoft.KeyVault/vaults",
    code: "local-auth",
    path: ["properties", "enableRbacAuthorization"],
    allowed: [true],
    why: "access goes through Azure RBAC, not access policies",
  },
  {
    // Communication Services (requester emails): the app sends with its identity.
    type: "Microsoft.Communication/communicationServices",
    code: "local-auth",
    path: ["properties", "disableLocalAuth"],
    allowed: [true],
    why: "access keys must not send email",
  },
  {
    type: "Microsoft.Web/sites",
    code: "https-only",
    path: ["properties", "httpsOnly"],
    allowed: [true],
    why: "plain HTTP must redirect to HTTPS",
  },
  {
    type: "Microsoft.Web/sites",
    code: "tls",
    path: ["properties", "siteConfig", "minTlsVersion"],
    allowed: ["1.2", "1.3"],
    why: "TLS below 1.2 is refused",
  },
  {
    type: "Microsoft.Web/sites",
    code: "tls",
    path: ["properties", "siteConfig", "scmMinTlsVersion"],
    allowed: ["1.2", "1.3"],
    optional: true,
    why: "TLS below 1.2 is refused",
  },
];

export function checkSecurity(files: readonly BicepFile[]): Problem[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const problems: Problem[] = [];
  for (const file of files) {
    const model = modelOf(file);
    problems.push(...checkInvariants(model));
    problems.push(...checkSecrets(model, new SecretTracer(byPath), byPath));
  }
  return problems;
}

function checkInvariants(model: BicepModel): Problem[] {
  const problems: Problem[] = [];
  for (const resource of model.resources) {
    if (resource.existing || !resource.body) continue;
    for (const rule of INVARIANTS.filter((r) => sameType(r.type, resource.type))) {
      const setting = rule.path.join(".");
      const value = lookupPath(model, resource.body, rule.path);
      const expected = rule.allowed.map((a) => (typeof a === "string" ? `'${a}'` : String(a))).join(" or ");
      if (!value) {
        if (!rule.optional) {
          problems.push(
            problem(
              "security",
              rule.code,
              locate(model.file, resource.node),
              `${resource.symbol}: ${setting} must be set to ${expected} (${rule.why})`,
            ),
          );
        }
        continue;
      }
      for (const branch of literalBranches(model, value)) {
        const literal = branch.type === "boolean" ? branch.text === "true" : stringLiteral(branch);
        if (literal === undefined) {
          problems.push(
            problem(
              "security",
              rule.code,
              locate(model.file, branch),
              `${resource.symbol}: ${setting} must be the literal ${expected}, not an expression`,
            ),
          );
        } else if (!rule.allowed.includes(literal)) {
          problems.push(
            problem(
              "security",
              rule.code,
              locate(model.file, branch),
              `${resource.symbol}: ${setting} is ${branch.text}, must be ${expected} (${rule.why})`,
            ),
          );
        }
      }
    }
  }
  return problems;
}

/** Both branches of a ternary are what may be deployed: each must satisfy the rule. */
function literalBranches(model: BicepModel, node: Node): Node[] {
  const expr = resolveLocal(model, node);
  if (expr.type !== "ternary_expression") return [expr];
  return [expr.childForFieldName("consequence"), expr.childForFieldName("alternative")].flatMap((b) =>
    b ? literalBranches(model, b) : [],
  );
}

// ---- secrets ----

/** Property names whose values are credentials (`account.properties.primaryKey`...). */
const SECRET_PROPERTY = /connectionstring|primarykey|secondarykey|accountkey|masterkey|sharedaccesskey|password|clientsecret/i;
/** Text that only appears inside a credential. */
const SECRET_TEXT = /AccountKey=|SharedAccessKey=|SharedAccessSignature=|DefaultEndpointsProtocol=|sig=[A-Za-z0-9%]{10}/i;
/** Functions whose result says something about a value without carrying it. */
const OPAQUE_RESULT = new Set(["empty", "length", "contains", "startsWith", "endsWith", "equals", "guid", "uniqueString"]);
/** A setting whose name says it holds a credential must come from Key Vault. */
const SECRET_SETTING_NAME = /(^|_)(KEY|SECRET|PASSWORD|TOKEN)$|CONNECTION_?STRING$|ConnectionString$/i;
/**
 * APPLICATIONINSIGHTS_CONNECTION_STRING is not a secret: it is the instrumentation key and
 * ingestion endpoint, which only identify the component; with local auth off, ingestion
 * still needs the app's Entra ID token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
 */
const NOT_SECRET_SETTINGS = new Set(["APPLICATIONINSIGHTS_CONNECTION_STRING"]);

/**
 * Decides whether an expression carries a secret: a `@secure()` parameter, a `list*()` call,
 * a credential property of a resource, or a module output that does. Application Insights'
 * ConnectionString is the one credential-named property that is not one (see above).
 */
class SecretTracer {
  constructor(private readonly files: Map<string, BicepFile>) {}

  reason(model: BicepModel, node: Node, depth = 0): string | null {
    if (depth > 48) return null;
    const expr = unwrap(node);
    const next = (n: Node | null) => (n ? this.reason(model, n, depth + 1) : null);
    switch (expr.type) {
      case "identifier": {
        if (model.params.get(expr.text)?.secure) return `carries @secure() parameter '${expr.text}'`;
        const variable = model.vars.get(expr.text);
        return variable ? next(variable) : null;
      }
      case "member_expression": {
        const property = expr.childForFieldName("property")?.text ?? "";
        const object = expr.childForFieldName("object");
        if (object?.type === "member_expression" && object.childForFieldName("property")?.text === "outputs") {
          return this.moduleOutput(model, object.childForFieldName("object")?.text ?? "", property, depth);
        }
        if (SECRET_PROPERTY.test(property) && !this.isApplicationInsights(model, expr)) return `reads credential property '${property}'`;
        return next(object);
      }
      case "call_expression": {
        const name = calleeName(expr) ?? "";
        if (/^list[A-Z]/.test(name)) return `calls ${name}()`;
        if (OPAQUE_RESULT.has(name)) return null;
        for (const arg of callArguments(expr)) {
          const found = next(arg);
          if (found) return found;
        }
        return next(expr.childForFieldName("function"));
      }
      case "ternary_expression":
        // The condition decides which branch is used; only the branches become the value.
        return next(expr.childForFieldName("consequence")) ?? next(expr.childForFieldName("alternative"));
      case "string":
        if (SECRET_TEXT.test(expr.text)) return "contains credential text";
        for (const part of expr.namedChildren) {
          const found = part.type === "interpolation" ? next(part.namedChildren[0] ?? null) : null;
          if (found) return found;
        }
        return null;
      default:
        for (const child of expr.namedChildren) {
          const found = next(child);
          if (found) return found;
        }
        return null;
    }
  }

  /** `appInsights.properties.ConnectionString`: the root symbol is an Application Insights component. */
  private isApplicationInsights(model: BicepModel, member: Node): boolean {
    let root: Node | null = member;
    while (root && root.type === "member_expression") root = root.childForFieldName("object");
    const resource = model.resources.find((r) => r.symbol === root?.text);
    return resource !== undefined && sameType(resource.type, "Microsoft.Insights/components");
  }

  private moduleOutput(model: BicepModel, symbol: string, output: string, depth: number): string | null {
    const module = model.modules.find((m) => m.symbol === symbol);
    const target = module ? modulePath(model, module) : null;
    const file = target ? this.files.get(target) : undefined;
    if (!file) return null;
    const child = modelOf(file);
    const declared = child.outputs.find((o) => o.name === output);
    const found = declared?.value ? this.reason(child, declared.value, depth + 1) : null;
    return found ? `${path.basename(file.path)} output '${output}' ${found}` : null;
  }
}

function checkSecrets(model: BicepModel, tracer: SecretTracer, files: Map<string, BicepFile>): Problem[] {
  const problems: Problem[] = [];
  const file = model.file;
  const report = (node: Node, message: string) => problems.push(problem("security", "secret", locate(file, node), message));

  visit(file.root, (node) => {
    if (node.type === "call_expression" && /^list[A-Z]/.test(calleeName(node) ?? "")) {
      report(node, `${calleeName(node)}() reads keys; use the managed identity instead`);
    }
    if (node.type === "string_content" && SECRET_TEXT.test(node.text)) report(node, "a credential is written in the template");
    return true;
  });

  for (const output of model.outputs) {
    const reason = output.value ? tracer.reason(model, output.value) : null;
    if (reason) report(output.node, `output '${output.name}' ${reason}`);
  }

  const local = localResolver(model);
  for (const source of appSettingSources(model)) {
    for (const entry of collectSettings(source.node, null, local).entries) {
      if (!entry.value) continue;
      const label = entry.name ?? "(computed name)";
      if (entry.name && NOT_SECRET_SETTINGS.has(entry.name)) continue;
      const reason = settingSecret(model, tracer, entry.value);
      if (reason) report(entry.at, `app setting ${label} ${reason}; store it in Key Vault and use a Key Vault reference`);
      else if (entry.name && SECRET_SETTING_NAME.test(entry.name) && !allKeyVaultReferences(model, entry.value)) {
        report(entry.at, `app setting ${label} looks like a credential but is not a Key Vault reference`);
      }
    }
  }
  for (const resource of model.resources) {
    if (!sameType(resource.type, "Microsoft.Web/sites") || !resource.body) continue;
    const connectionStrings = lookupPath(model, resource.body, ["properties", "siteConfig", "connectionStrings"]);
    if (connectionStrings && namedItems(connectionStrings).length > 0) {
      report(connectionStrings, `${resource.symbol}: siteConfig.connectionStrings holds connection strings; use identity-based settings`);
    }
  }

  // A secure value handed to a module parameter that is not @secure() ends up in plain text
  // in the deployment history.
  for (const module of model.modules) {
    const target = modulePath(model, module);
    const child = target ? files.get(target) : undefined;
    const params = propertyValue(module.body, "params");
    if (!child || params?.type !== "object") continue;
    const childModel = modelOf(child);
    for (const entry of objectEntries(params)) {
      const declared = entry.key ? childModel.params.get(entry.key) : undefined;
      if (!declared || declared.secure) continue;
      const reason = tracer.reason(model, entry.value);
      if (reason) report(entry.keyNode, `module ${module.symbol}: '${entry.key}' ${reason} but the parameter is not @secure()`);
    }
  }
  return problems;
}

/** A setting value is fine if every branch is a Key Vault reference, an empty string, or carries no secret. */
function settingSecret(model: BicepModel, tracer: SecretTracer, value: Node): string | null {
  const expr = resolveLocal(model, value);
  if (expr.type === "ternary_expression") {
    for (const branch of [expr.childForFieldName("consequence"), expr.childForFieldName("alternative")]) {
      const found = branch ? settingSecret(model, tracer, branch) : null;
      if (found) return found;
    }
    return null;
  }
  if (expr.type === "string" && isKeyVaultReferenceText(stringPrefix(expr) ?? "")) return null;
  return tracer.reason(model, expr);
}

function allKeyVaultReferences(model: BicepModel, value: Node): boolean {
  return literalBranches(model, value).every(
    (b) => b.type === "string" && (stringLiteral(b) === "" || isKeyVaultReferenceText(stringPrefix(b) ?? "")),
  );
}
