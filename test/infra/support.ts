import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseBicepFile, parseBicepSource, type BicepFile } from "../../infra/verify/parse.js";
import { formatProblem, type Problem } from "../../infra/verify/problems.js";
import { azureTypesDir, ResourceSchemas } from "../../infra/verify/schemas.js";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const fixturesDir = path.join(repoRoot, "test", "infra", "fixtures");

export const typesDir = azureTypesDir(repoRoot);
export const haveTypes = existsSync(typesDir);
/** Shared by the suites that need them; absent when the schema folder is. */
export const schemas = haveTypes ? new ResourceSchemas(typesDir) : undefined;

/** Says plainly why the schema tests are skipped, once per suite that needs them. */
export function announceMissingTypes(suite: string): void {
  if (!haveTypes) {
    console.warn(`[${suite}] Azure resource schemas not found at ${typesDir}: schema checks skipped (set AZURE_TYPES_DIR)`);
  }
}

export function fixture(...parts: string[]): Promise<BicepFile> {
  return parseBicepFile(path.join(fixturesDir, ...parts));
}

/** An inline template, parsed as if it were a file in the fixtures folder. */
export function inline(source: string, name = "inline.bicep"): Promise<BicepFile> {
  return parseBicepSource(path.join(fixturesDir, name), source);
}

/** `code@line` pairs: what a test asserts, readable in a failure diff. */
export function codes(problems: readonly Problem[]): string[] {
  return problems.map((p) => `${p.code}@${p.line}`);
}

/** Full problem lines, for failure messages. */
export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((p) => formatProblem(p, repoRoot)).join("\n") || "(none)";
}
