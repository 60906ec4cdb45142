import module from "node:module";

/**
 * `npm start`'s entry: on Node.js 22.1 and later, the compiled code of the bundle's modules is
 * kept on disk between starts (in the OS's temporary directory, or NODE_COMPILE_CACHE), so a
 * second start compiles almost nothing. It must be on before those modules load, so the host
 * (main.ts) is imported after. On Node.js 20 this is a no-op.
 */
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
// The embedded store (unless a setting names a real one) starts in its worker while the host loads.
if (!process.env.COSMOS_ENDPOINT) (await import("./embedded-cosmos.js")).startEmbeddedCosmosEarly();
await import("./main.js");
