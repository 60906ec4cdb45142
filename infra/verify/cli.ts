import path from "node:path";
import { fileURLToPath } from "node:url";
import { formatProblem, verifyInfra } from "./index.js";

// `npx tsx infra/verify/cli.ts`: the same checks as test/infra, printed for a human.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const report = await verifyInfra({ repoRoot });
for (const skipped of report.skipped) console.warn(`skipped ${skipped.check}: ${skipped.reason}`);
for (const p of report.problems) console.log(formatProblem(p, repoRoot));
console.log(report.problems.length === 0 ? "infra/: no problems" : `infra/: ${report.problems.length} problem(s)`);
process.exitCode = report.problems.length === 0 ? 0 : 1;
