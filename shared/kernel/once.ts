/** A value made on first use. */
export type Lazy<T> = (() => Promise<T>) & { /** The promise, if it was ever asked for. */ made(): Promise<T> | undefined };

/** The same promise on every call; a failed one is forgotten, so the next call tries again. */
export function once<T>(make: () => Promise<T>): Lazy<T> {
  let promise: Promise<T> | undefined;
  const get = () =>
    (promise ??= make().catch((e: unknown) => {
      promise = undefined;
      throw e;
    }));
  return Object.assign(get, { made: () => promise });
}
