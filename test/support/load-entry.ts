import { pathToFileURL } from "node:url";
import { installFunctionsCoreStandIn } from "./functions-core-standin.js";

/**
 * Loads a Functions entry point (argv[2]) as the worker would and prints what it
 * registered, as JSON: run in a child process so each entry loads fresh.
 */
const registered = installFunctionsCoreStandIn();
await import(pathToFileURL(process.argv[2]!).href);
process.stdout.write(JSON.stringify(registered.map((r) => r.metadata)));
