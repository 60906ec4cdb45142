import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Node } from "web-tree-sitter";
import { z } from "zod";
import { modelOf, objectEntries, propertyValue, type BicepModel, type ModuleDecl } from "./model.js";
import { locate, visit, type BicepFile } from "./parse.js";
import { problem, type Problem } from "./problems.js";

/**
 * How the files fit together: which module each `module` declaration loads, with which
 * arguments. A deployment is a tree of instances rooted at the entry file; the contract
 * check evaluates names through it (a parameter's value is the caller's argument).
 */

export interface Binding {
  node: Node;
  instance: Instance;
}

export interface Instance {
  model: BicepModel;
  /** Arguments the caller passed, by parameter name. */
  args: Map<string, Binding>;
  caller: Instance | null;
  /** Instantiated modules, by the module's symbol in this file. */
  children: Map<string, Instance>;
}

/** The file a module declaration loads, or null for registry modules (`br:`, `ts:`) or computed paths. */
export function modulePath(model: BicepModel, module: ModuleDecl): string | null {
  if (module.path === null || /^(br|ts)[:/]/.test(module.path)) return null;
  return path.resolve(path.dirname(model.file.path), module.path);
}

/** The instance tree of a deployment, starting at `entry`. */
export function instantiate(entry: BicepFile, files: readonly BicepFile[]): Instance {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const build = (file: BicepFile, args: Map<string, Binding>, caller: Instance | null, depth: number): Instance => {
    const instance: Instance = { model: modelOf(file), args, caller, children: new Map() };
    // Bicep forbids module cycles; the depth bound only keeps a broken input from looping.
    if (depth > 20) return instance;
    for (const module of instance.model.modules) {
      const target = modulePath(instance.model, module);
      const child = target ? byPath.get(target) : undefined;
      if (!child) continue;
      const params = propertyValue(module.body, "params");
      const childArgs = new Map<string, Binding>();
      if (params?.type === "object") {
        for (const entry of objectEntries(params)) if (entry.key) childArgs.set(entry.key, { node: entry.value, instance });
      }
      instance.children.set(module.symbol, build(child, childArgs, instance, depth + 1));
    }
    return instance;
  };
  return build(entry, new Map(), null, 0);
}

/** Every instance of the tree, the entry first. */
export function allInstances(root: Instance): Instance[] {
  return [root, ...[...root.children.values()].flatMap(allInstances)];
}

const ParametersFile = z.object({
  parameters: z.record(z.string(), z.unknown()),
});

export interface WiringOptions {
  /** The entry template, whose parameters the parameters file must match. */
  entry?: BicepFile;
  /** An ARM/azd parameters file (main.parameters.json). */
  parametersFile?: string;
}

/**
 * Module files exist; every argument passed is a declared parameter and every parameter
 * without a default is passed; every `module.outputs.x` read is a declared output; the
 * parameters file names only parameters of the entry template and covers the required ones.
 */
export function checkWiring(files: readonly BicepFile[], options: WiringOptions = {}): Problem[] {
  const problems: Problem[] = [];
  const byPath = new Map(files.map((f) => [f.path, f]));
  for (const file of files) {
    const model = modelOf(file);
    const targets = new Map<string, BicepModel>();
    for (const module of model.modules) {
      const target = modulePath(model, module);
      if (target === null) continue;
      const child = byPath.get(target);
      if (!child) {
        if (!existsSync(target)) {
          problems.push(problem("wiring", "module-missing", locate(file, module.pathNode), `module file ${module.path} does not exist`));
        }
        continue;
      }
      const childModel = modelOf(child);
      targets.set(module.symbol, childModel);
      problems.push(...checkArguments(model, module, childModel));
    }
    problems.push(...checkOutputReads(model, targets));
  }
  if (options.entry && options.parametersFile) problems.push(...checkParametersFile(modelOf(options.entry), options.parametersFile));
  return problems;
}

function checkArguments(model: BicepModel, module: ModuleDecl, target: BicepModel): Problem[] {
  const params = propertyValue(module.body, "params");
  const problems: Problem[] = [];
  const name = path.basename(target.file.path);
  const passed = new Set<string>();
  if (params?.type === "object") {
    const entries = objectEntries(params);
    // A computed key could be any parameter: nothing can be said about what is missing.
    if (entries.some((e) => e.key === null)) return [];
    for (const entry of entries) {
      passed.add(entry.key as string);
      if (!target.params.has(entry.key as string)) {
        problems.push(
          problem("wiring", "module-param-unknown", locate(model.file, entry.keyNode), `${name} declares no parameter '${entry.key}'`),
        );
      }
    }
  } else if (params) {
    return [];
  }
  for (const param of target.params.values()) {
    if (!param.defaultValue && !passed.has(param.name)) {
      problems.push(
        problem(
          "wiring",
          "module-param-missing",
          locate(model.file, module.node),
          `module ${module.symbol} does not pass '${param.name}' required by ${name}`,
        ),
      );
    }
  }
  return problems;
}

function checkOutputReads(model: BicepModel, targets: Map<string, BicepModel>): Problem[] {
  const problems: Problem[] = [];
  visit(model.file.root, (node) => {
    if (node.type !== "member_expression") return true;
    const object = node.childForFieldName("object");
    if (object?.type !== "member_expression" || object.childForFieldName("property")?.text !== "outputs") return true;
    const symbol = object.childForFieldName("object")?.text ?? "";
    const target = targets.get(symbol);
    const output = node.childForFieldName("property")?.text ?? "";
    if (target && !target.outputs.some((o) => o.name === output)) {
      problems.push(
        problem(
          "wiring",
          "module-output-unknown",
          locate(model.file, node),
          `${path.basename(target.file.path)} has no output '${output}'`,
        ),
      );
    }
    return true;
  });
  return problems;
}

function checkParametersFile(entry: BicepModel, parametersFile: string): Problem[] {
  const at = { file: path.resolve(parametersFile), line: 1, column: 1 };
  if (!existsSync(parametersFile)) return [problem("wiring", "parameters-file", at, "parameters file does not exist")];
  const parsed = ParametersFile.safeParse(JSON.parse(readFileSync(parametersFile, "utf8")));
  if (!parsed.success) return [problem("wiring", "parameters-file", at, "not an ARM parameters file (no `parameters` object)")];
  const problems: Problem[] = [];
  const source = readFileSync(parametersFile, "utf8");
  for (const name of Object.keys(parsed.data.parameters)) {
    if (!entry.params.has(name)) {
      const line = source.split("\n").findIndex((l) => l.includes(`"${name}"`)) + 1;
      problems.push(
        problem(
          "wiring",
          "parameter-unknown",
          { ...at, line: Math.max(line, 1) },
          `${path.basename(entry.file.path)} declares no parameter '${name}'`,
        ),
      );
    }
  }
  for (const param of entry.params.values()) {
    if (!param.defaultValue && !(param.name in parsed.data.parameters)) {
      problems.push(
        problem("wiring", "parameter-missing", at, `required parameter '${param.name}' of ${path.basename(entry.file.path)} is not set`),
      );
    }
  }
  return problems;
}
