import { open, readFile, rm } from "node:fs/promises";
import { StoreFileError } from "./store-file.js";

/**
 * One local host per store file: a second `npm start` with the same LOCAL_DIR (on another
 * port) would load the same data and then overwrite the first's saves. The lock is a file
 * beside the store holding the owner's pid, created exclusively; a lock whose process is
 * gone (a kill -9) is taken over.
 */
export interface StoreLock {
  release(): Promise<void>;
}

export async function lockStore(file: string): Promise<StoreLock> {
  const lock = `${file}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lock, "wx", 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => rm(lock, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (attempt > 0) throw new StoreFileError(`${file} was locked by another local host as this one started.`);
    }
    const owner = Number((await readFile(lock, "utf8").catch(() => "")).trim());
    if (Number.isInteger(owner) && owner > 0 && isRunning(owner))
      throw new StoreFileError(
        `${file} is kept by another local host (pid ${owner}). Stop it, or start this one with LOCAL_DIR=<another folder> or LOCAL_STORE=memory.`,
      );
    // Its owner is gone: the lock is stale.
    await rm(lock, { force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
