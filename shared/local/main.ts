import { loadConfig } from "../app/config.js";
import { banner } from "./banner.js";
import { startHost } from "./host.js";
import { loadLocalConfig } from "./local-config.js";

/** `npm start`: the local host with its embedded defaults, until SIGINT or SIGTERM. */
const config = loadConfig();
const host = await startHost({ config, local: loadLocalConfig() });
// Connect the store now rather than on the first request, so start-up says where it is.
await host.composition.stores();
for (const line of banner(host, config)) console.log(line);

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
