import { loadConfig } from "../app/config.js";
import { removeApiUrl, writeApiUrl } from "./api-url-file.js";
import { banner } from "./banner.js";
import { startHost, type Host } from "./host.js";
import { listenFailure } from "./listen-failure.js";
import { loadLocalConfig } from "./local-config.js";
import { StoreFileError } from "./store-file.js";

/** `npm start`: the local host with its embedded defaults, until SIGINT or SIGTERM. */
const config = loadConfig();
const local = loadLocalConfig();
let host: Host;
try {
  host = await startHost({ config, local });
  // Connect the store now rather than on the first request, so start-up says where it is
  // (and a kept store that cannot be loaded stops the start, rather than the first request).
  await host.composition.stores();
  await writeApiUrl(local.dir, host.url);
  for (const line of banner(host, config)) console.log(line);
} catch (e) {
  // A port that cannot be had or a store file that cannot be loaded says what to do, in one
  // line; anything else is worth its stack.
  const why = e instanceof StoreFileError ? `Cannot start: ${e.message}` : listenFailure(e, local.port);
  if (!why) throw e;
  console.error(why);
  process.exit(1);
}

// package.json's start script execs node, so these come straight from `npm start` (npm
// forwards SIGINT and SIGTERM to its script): no shell in between keeps them from us.
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // A second signal while a large store saves: stop now, on the last save the file holds.
    if (stopping) {
      console.log(`${signal} again: stopping now, without the last save (${local.dir} holds the one before)`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: shutting down`);
    Promise.all([host.close(), removeApiUrl(local.dir, host.url)]).then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  });
}
