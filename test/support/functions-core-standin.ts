import Module from "node:module";

/**
 * A stand-in for `@azure/functions-core`, the module the Functions worker
 * provides at run time. @azure/functions loads it with a CommonJS require at the
 * first registration; intercepting that require hands us every
 * registerFunction(metadata, handler) exactly as the worker would receive it.
 */
export interface Registered {
  metadata: {
    name: string;
    bindings: Record<string, { type: string; direction: string; [key: string]: unknown }>;
    retryOptions?: Record<string, unknown>;
    [key: string]: unknown;
  };
  handler: (...args: unknown[]) => unknown;
}

export function installFunctionsCoreStandIn(): Registered[] {
  const registered: Registered[] = [];
  const standIn = {
    registerFunction: (metadata: Registered["metadata"], handler: Registered["handler"]) => {
      registered.push({ metadata, handler });
      return { dispose() {} };
    },
    setProgrammingModel: () => {},
    getProgrammingModel: () => undefined,
    registerHook: () => ({ dispose() {} }),
    log: () => {},
  };
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    if (request === "@azure/functions-core") return standIn;
    return original.call(this, request, ...rest);
  };
  return registered;
}
