import { loadSettings } from "../config/settings.js";
import { startHost } from "./host.js";

/** `npm start`: the local host with its embedded defaults, until SIGINT or SIGTERM. */
const settings = loadSettings();
const host = await startHost(settings);
// Connect the store now rather than on the first request, so start-up says where it is.
await host.app.store();
console.log(`Help desk API on ${host.url}`);
console.log(`  store:    ${host.app.describeStore()}`);
console.log(`  identity: ${host.app.describeIdentity()}`);
console.log(`  queue:    ${host.app.describeQueue()}`);
console.log(`  CORS:     ${settings.CORS_ALLOWED_ORIGINS.length ? settings.CORS_ALLOWED_ORIGINS.join(", ") : "no browser origins allowed (CORS_ALLOWED_ORIGINS)"}`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    host.close().then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  });
}
