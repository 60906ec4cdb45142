import * as z from "zod";

/**
 * Query parameters that are lists: `?status=open,in_progress`. The query string is
 * one string; the schema splits it and validates each item. The document describes
 * the list by its items (OpenAPI `style: form`, `explode: false`, an array of them),
 * which this map keeps for openapi.ts.
 */
const lists = new WeakMap<z.ZodType, z.ZodType>();

export function commaSeparated<T extends z.ZodType<string, string>>(item: T) {
  const list = z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((v) => v.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).min(1));
  lists.set(list, item);
  return list;
}

/** The item schema of a list made by commaSeparated, or undefined for any other schema. */
export const commaSeparatedItems = (schema: z.ZodType): z.ZodType | undefined => lists.get(schema);
