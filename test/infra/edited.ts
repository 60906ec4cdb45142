import path from "node:path";
import { checkContract, codeContract } from "../../infra/verify/contract.js";
import { checkDeployment } from "../../infra/verify/deployment.js";
import { instantiate } from "../../infra/verify/modules.js";
import { checkSyntax, loadBicepFiles, parseBicepSource } from "../../infra/verify/parse.js";
import { sortProblems, type Problem } from "../../infra/verify/problems.js";
import { checkSecurity } from "../../infra/verify/security.js";
import { repoRoot } from "./support.js";

/**
 * infra/ as committed, edited in memory one way at a time: each edit is one a careless change
 * could make, and the checks must report exactly it. The suites that use these fail the day the
 * templates and the checks drift apart.
 */

const infraDir = path.join(repoRoot, "infra");

export type Edit = (source: string) => string;

/** Replaces `from` (which must be there) with `to`. */
export const replace =
  (from: string, to: string): Edit =>
  (source) => {
    if (!source.includes(from)) throw new Error(`no \`${from}\` to replace`);
    return source.replace(from, to);
  };

/** Removes the declaration `resource <symbol> ...` up to its closing brace. */
export const withoutResource =
  (symbol: string): Edit =>
  (source) => {
    const start = source.indexOf(`resource ${symbol} `);
    if (start < 0) throw new Error(`no resource ${symbol}`);
    const end = source.indexOf("\n}\n", start);
    return source.slice(0, start) + source.slice(end + 3);
  };

/** Every check but the schemas' over infra/, with some of its files edited first. */
export async function infraProblems(edits: Record<string, Edit> = {}): Promise<Problem[]> {
  const files = await Promise.all(
    (await loadBicepFiles(infraDir)).map(async (file) => {
      const edit = edits[path.relative(infraDir, file.path)];
      if (!edit) return file;
      const changed = edit(file.source);
      if (changed === file.source) throw new Error(`the edit changes nothing in ${file.path}`);
      return parseBicepSource(file.path, changed);
    }),
  );
  const entry = files.find((f) => f.path === path.join(infraDir, "main.bicep"));
  if (!entry) throw new Error("no infra/main.bicep");
  return sortProblems([
    ...checkSyntax(files),
    ...checkSecurity(files),
    ...checkDeployment(files),
    ...checkContract(instantiate(entry, files), codeContract(repoRoot)),
  ]);
}

/** `file check/code` of each problem. */
export const kinds = (problems: readonly Problem[]) => problems.map((p) => `${path.basename(p.file)} ${p.check}/${p.code}`);
