import { ConfigError, loadConfig } from "../app/config.js";
import { banner } from "./banner.js";
import { startHost, type Host } from "./host.js";
import { loadLocalConfig } from "./local-config.js";
import { StoreFileError } from "./store-file.js";

/** `npm start`: the local host with its embedded defaults, until SIGINT or SIGTERM. */
let host: Host;
try {
  const config = loadConfig();
  host = await startHost({ config, local: loadLocalConfig() });
  // Connect the store now rather than on the first request, so start-up says where it is
  // (and a kept store that cannot be loaded stops the start, rather than the first request).
  await host.composition.stores();
  for (const line of banner(host, config)) console.log(line);
} catch (e) {
  // A bad setting or store file says what to do; anything else is a bug, with its stack.
  console.error(e instanceof ConfigError || e instanceof StoreFileError ? `Cannot start: ${e.message}` : e);
  process.exit(1);
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    host.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  });
}
