import pino from "pino";

/**
 * The local host's line per request, as the Functions host keeps one in Azure: one JSON
 * object a line (pino), so that a developer can filter by field (`status`, `requestId`)
 * with `jq`, not by a regular expression. Written asynchronously (pino's destination with
 * `sync: false`), and in blocks: lines are kept until BLOCK bytes are, or FLUSH_MS has
 * passed, so a request never waits for the terminal, and a busy host writes once per few
 * dozen requests rather than once or twice each (measured: a write per line was 5% of the
 * host's time under load), while a lone request's line still shows within FLUSH_MS.
 * Flushed when the host stops.
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

const BLOCK = 4096;
const FLUSH_MS = 100;

export function stdoutRequestLog(): RequestLog {
  const destination = pino.destination({ dest: 1, sync: false, minLength: BLOCK, periodicFlush: FLUSH_MS });
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
