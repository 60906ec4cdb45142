import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { verifyInfra } from "../../infra/verify/index.js";
import { loadBicepFiles } from "../../infra/verify/parse.js";
import { checkResources } from "../../infra/verify/resources.js";
import { announceMissingTypes, describeProblems, haveTypes, repoRoot, schemas, typesDir } from "./support.js";

announceMissingTypes("infra");

describe("infra/ as committed", () => {
  it("passes every check with no problem", async () => {
    const report = await verifyInfra({ repoRoot });

    expect(report.problems, describeProblems(report.problems)).toEqual([]);
    // Without the schemas the other checks still run; the report says which one did not.
    expect(report.skipped).toEqual(haveTypes ? [] : [{ check: "schema", reason: expect.stringContaining(typesDir) }]);
  });

  it.skipIf(!haveTypes)("uses only resource types and API versions the schemas define", async () => {
    const files = await loadBicepFiles(path.join(repoRoot, "infra"));
    const problems = schemas ? checkResources(files, schemas) : [];

    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(problems, describeProblems(problems)).toEqual([]);
  });

  it("deploys the azd service `api` to the function app tagged for it, from the packaged folder", () => {
    const azureYaml = readFileSync(path.join(repoRoot, "azure.yaml"), "utf8");
    const functionApp = readFileSync(path.join(repoRoot, "infra", "modules", "functionapp.bicep"), "utf8");

    expect(azureYaml).toMatch(/^services:\n {2}api:\n(?: {4}.*\n|\s*#.*\n)*? {4}host: function$/m);
    expect(azureYaml).toMatch(/^ {4}language: js$/m);
    expect(azureYaml).toMatch(/^ {4}dist: package$/m);
    expect(azureYaml).toMatch(/run: npm run package$/m);
    expect(functionApp).toContain("'azd-service-name': 'api'");
  });

  it("has the README's deploy steps set every alert channel secret with `azd env set-secret`, never `azd env set`", () => {
    const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
    const deploy = readme.slice(readme.indexOf("## Deploy to Azure"));
    const secrets = ["ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_SECRET", "TEAMS_WEBHOOK_URL", "SLACK_WEBHOOK_URL", "PAGERDUTY_ROUTING_KEY"];

    for (const name of secrets) {
      expect(deploy, name).toMatch(new RegExp(`azd env set-secret ${name}\\b`));
      expect(deploy, name).not.toMatch(new RegExp(`azd env set ${name}\\b`));
    }
  });

  it("says in azure.yaml what azd runs: npm install and npm run build, never npm run package (the hook does)", () => {
    const comments = readFileSync(path.join(repoRoot, "azure.yaml"), "utf8")
      .split("\n")
      .filter((line) => line.trim().startsWith("#"))
      .join("\n");

    expect(comments).toMatch(/`npm install`/);
    expect(comments).toMatch(/`npm run build --if-present`/);
    expect(comments).toMatch(/never runs\s+#?\s*`npm run package`/);
    // What the comment used to claim, and azd does not do.
    expect(comments).not.toMatch(/azd versions run `npm run package`/);
  });
});
