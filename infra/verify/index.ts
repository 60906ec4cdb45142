import { existsSync } from "node:fs";
import path from "node:path";
import { checkContract, codeContract, type CodeContract } from "./contract.js";
import { checkDeployment } from "./deployment.js";
import { checkWiring, instantiate } from "./modules.js";
import { checkSyntax, loadBicepFiles } from "./parse.js";
import { sortProblems, type CheckName, type Problem } from "./problems.js";
import { checkResources } from "./resources.js";
import { azureTypesDir, ResourceSchemas } from "./schemas.js";
import { checkSecurity } from "./security.js";

export { formatProblem, type Problem } from "./problems.js";

export interface VerifyOptions {
  /** The repository root (holds infra/ and shared/). */
  repoRoot: string;
  /** Defaults to <repoRoot>/infra. */
  infraDir?: string;
  /** Entry template, relative to infraDir. */
  entry?: string;
  /** azd parameters file, relative to infraDir. */
  parametersFile?: string;
  /** Defaults to AZURE_TYPES_DIR, else ../shared/azure-types beside the repository. */
  typesDir?: string;
  contract?: CodeContract;
}

export interface VerifyReport {
  problems: Problem[];
  /** Checks that could not run, each with the reason (e.g. the schemas are absent). */
  skipped: { check: CheckName; reason: string }[];
}

/** All checks over infra/, as `test/infra` and `npx tsx infra/verify/cli.ts` run them. */
export async function verifyInfra(options: VerifyOptions): Promise<VerifyReport> {
  const infraDir = options.infraDir ?? path.join(options.repoRoot, "infra");
  const files = await loadBicepFiles(infraDir);
  const entryPath = path.resolve(infraDir, options.entry ?? "main.bicep");
  const entry = files.find((f) => f.path === entryPath);
  const problems: Problem[] = [...checkSyntax(files)];
  const skipped: VerifyReport["skipped"] = [];

  const typesDir = options.typesDir ?? azureTypesDir(options.repoRoot);
  if (existsSync(typesDir)) problems.push(...checkResources(files, new ResourceSchemas(typesDir)));
  else skipped.push({ check: "schema", reason: `no Azure resource schemas at ${typesDir} (set AZURE_TYPES_DIR)` });

  problems.push(...checkSecurity(files));
  problems.push(...checkDeployment(files));
  problems.push(...checkWiring(files, { entry, parametersFile: path.resolve(infraDir, options.parametersFile ?? "main.parameters.json") }));
  if (entry) problems.push(...checkContract(instantiate(entry, files), options.contract ?? codeContract(options.repoRoot)));
  else skipped.push({ check: "contract", reason: `no entry template ${entryPath}` });
  return { problems: sortProblems(problems), skipped };
}
