import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { bootstrapCosmos, connectCosmos, EMBEDDED_KEY } from "../adapters/cosmos/connect.js";
import { restoreSnapshot, SNAPSHOT_REQUEST_TIMEOUT_MS, takeSnapshot, type RestoreResult } from "../adapters/cosmos/snapshot.js";
import type { EmbeddedCosmos } from "./embedded-cosmos.js";
import { readStoreFile, writeStoreFile } from "./store-file.js";
import { lockStore } from "./store-lock.js";

/**
 * The embedded store, kept in a file across restarts (LOCAL_STORE=file): loaded at start,
 * saved a few seconds after it changes (so a crash loses at most those seconds) and on
 * close. Both go through the SDK, as any client of the endpoint would
 * (adapters/cosmos/snapshot.ts), and the file is replaced atomically (store-file.ts).
 */
export interface KeptStore {
  /** The file the store is kept in. */
  file: string;
  /** What the start loaded, or null when there was no file yet. */
  loaded: RestoreResult | null;
  /** Saves now, changed or not. */
  save(): Promise<SaveResult>;
  /** Stops saving on its own and saves what changed since the last save. */
  close(): Promise<void>;
}

interface SaveResult {
  documents: number;
  bytes: number;
  ms: number;
}

export interface KeptStoreOptions {
  file: string;
  database: string;
}

/** The shortest pause between a change and its save. */
const INTERVAL_MS = 2_000;

/**
 * Saving reads the whole store, which blocks the embedded endpoint while it runs (see the
 * README's known limits): a save waits at least this many times
 * as long as the last one took, so the host never spends more than about a tenth of its
 * time saving, however large the store grows.
 */
const PACE = 10;

export async function keepStore(embedded: EmbeddedCosmos, options: KeptStoreOptions): Promise<KeptStore> {
  const { file, database } = options;
  const log = (line: string) => console.error(line);
  await mkdir(dirname(file), { recursive: true });
  // One host per file (store-lock.ts), then read (and check) the file before anything
  // else: a bad one stops the start here.
  const lock = await lockStore(file);
  let snapshot;
  try {
    snapshot = await readStoreFile(file);
  } catch (e) {
    await lock.release();
    throw e;
  }
  const client = await connectCosmos({ endpoint: embedded.endpoint, key: EMBEDDED_KEY, requestTimeoutMs: SNAPSHOT_REQUEST_TIMEOUT_MS });
  const db = client.database(database);
  let loaded: RestoreResult | null = null;
  try {
    // The containers as the app creates them (indexing policy included), on the endpoint just
    // started, then what the file holds.
    await bootstrapCosmos(client, database, { fresh: true });
    if (snapshot) loaded = await restoreSnapshot(db, snapshot, new Date());
  } catch (e) {
    client.dispose();
    await lock.release();
    throw e;
  }

  let savedWrites = embedded.writes(); // what the restore wrote is what the file holds
  let lastMs = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  // One save at a time, in order: a second one waits for the first.
  let queue: Promise<unknown> = Promise.resolve();

  const saveNow = async (): Promise<SaveResult> => {
    const started = performance.now();
    const mark = embedded.writes();
    const taken = await takeSnapshot(db, new Date());
    const bytes = await writeStoreFile(file, taken);
    savedWrites = mark;
    lastMs = performance.now() - started;
    return { documents: taken.containers.reduce((n, c) => n + c.documents.length, 0), bytes, ms: lastMs };
  };
  const serialized = <T>(run: () => Promise<T>): Promise<T> => {
    const result = queue.then(run);
    queue = result.catch(() => undefined);
    return result;
  };
  const changed = () => embedded.writes() !== savedWrites;

  const schedule = () => {
    if (timer || closed) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        void serialized(async () => {
          if (closed || !changed()) return;
          try {
            await saveNow();
          } catch (e) {
            log(`local store: saving ${file} failed, retrying: ${(e as Error).message}`);
          }
          // Changes made while it saved (or a failed save) are saved next time round.
          if (changed()) schedule();
        });
      },
      Math.max(INTERVAL_MS, PACE * lastMs),
    );
    // Never what keeps the process alive: close() saves what is left.
    timer.unref();
  };
  embedded.onWrite(schedule);

  return {
    file,
    loaded,
    save: () => serialized(saveNow),
    close: async () => {
      closed = true;
      clearTimeout(timer);
      try {
        await serialized(async () => {
          if (changed()) await saveNow();
        });
      } finally {
        client.dispose();
        await lock.release();
      }
    },
  };
}
