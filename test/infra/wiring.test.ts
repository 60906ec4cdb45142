import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkWiring } from "../../infra/verify/modules.js";
import { loadBicepFiles } from "../../infra/verify/parse.js";
import { describeProblems, fixturesDir } from "./support.js";

describe("infra check: how the files fit together", () => {
  it("reports module arguments, module files, module outputs and parameters-file entries that do not match", async () => {
    const dir = path.join(fixturesDir, "wiring");
    const files = await loadBicepFiles(dir);
    const entry = files.find((f) => f.path.endsWith("main.bicep"));
    const problems = checkWiring(files, { entry, parametersFile: path.join(dir, "main.parameters.json") });
    const found = problems.map((p) => `${path.basename(p.file)}:${p.line} ${p.code}: ${p.message}`);

    expect(found.sort(), describeProblems(problems)).toEqual(
      [
        "main.bicep:6 module-param-missing: module identity does not pass 'name' required by identity.bicep",
        "main.bicep:9 module-param-unknown: identity.bicep declares no parameter 'nmae'",
        "main.bicep:15 module-missing: module file modules/missing.bicep does not exist",
        "main.bicep:20 module-output-unknown: identity.bicep has no output 'principalId'",
        "main.parameters.json:1 parameter-missing: required parameter 'environmentName' of main.bicep is not set",
        "main.parameters.json:5 parameter-unknown: main.bicep declares no parameter 'location'",
      ].sort(),
    );
  });
});
