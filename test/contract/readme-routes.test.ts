import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ROUTE_SPECS } from "../../shared/app/routes.js";

/**
 * The README's route table ("The API at a glance") against the one route table the hosts
 * register (shared/app/routes.ts): a route added there and not documented fails here.
 */
function readmeRoutes(): string[] {
  const readme = readFileSync("README.md", "utf8");
  const section = readme.slice(readme.indexOf("## The API at a glance"), readme.indexOf("Statuses `open`"));
  const rows = section.split("\n").filter((line) => line.startsWith("| `"));
  // The first cell of each row: one route or more, each in backticks.
  return rows.flatMap((row) => [...row.split(" | ")[0]!.matchAll(/`([A-Z]+ \/api\/[^`]*)`/g)].map((m) => m[1]!));
}

describe("the README's route table", () => {
  it("lists every route the hosts register, and no other", () => {
    // `{*path}` (any path, the preflight's) is written `{path}` there.
    const registered = ROUTE_SPECS.flatMap((spec) => spec.methods.map((method) => `${method} /api/${spec.route.replace("{*", "{")}`));
    expect(readmeRoutes().sort()).toEqual(registered.sort());
  });
});
