import { app } from "@azure/functions";
import { httpRoutes } from "../shared/api.js";
import { App } from "../shared/composition.js";
import { loadSettings } from "../shared/config/settings.js";

/**
 * The Azure Functions entry point: registers every function of the route table.
 * Settings are decoded here, at start-up, so a missing one fails the host load
 * with its name rather than the first request.
 */
const root = new App(loadSettings());

for (const route of httpRoutes(root)) {
  app.http(route.name, {
    route: route.route,
    methods: route.methods as ("GET" | "POST" | "PUT" | "PATCH" | "DELETE")[],
    // Authentication is the API's own (Bearer JWT verified in shared/identity), not function keys.
    authLevel: "anonymous",
    handler: route.handler,
  });
}
