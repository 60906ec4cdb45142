import pino from "pino";

/**
 * The local host's line per request, as the Functions host keeps one in Azure: one JSON
 * object a line (pino), so that a developer can filter by field (`status`, `requestId`)
 * with `jq`, not by a regular expression. Written asynchronously (pino's destination with
 * `sync: false`): a line is queued, and the lines queued while a write is under way go out
 * together in the next, so a request never waits for the terminal and a burst costs few
 * writes, while a lone request's line still shows at once. Flushed when the host stops.
 */
export interface RequestLine {
  method: string;
  /** With the query's names, never its values (see redactedQuery in host.ts). */
  path: string;
  status: number;
  ms: number;
  requestId: string;
}

export interface RequestLog {
  write(line: RequestLine): void;
  /** Writes out what the buffer holds. */
  flush(): Promise<void>;
}

export function stdoutRequestLog(): RequestLog {
  const destination = pino.destination({ dest: 1, sync: false });
  const logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  // What a stop left in the buffer is written before the process goes.
  process.once("exit", () => destination.flushSync());
  return {
    write: (line) => logger.info(line),
    flush: () => new Promise<void>((resolve) => logger.flush(() => resolve())),
  };
}

/** For hosts whose requests nobody reads (the tests, the benchmarks). */
export const silentRequestLog: RequestLog = { write: () => {}, flush: async () => {} };
