import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

/**
 * The Azure resource schemas (bicep-types-az `types.json`, one file per provider and API
 * version; format in azure-types/README.md), loaded lazily: a check touches only the few
 * provider versions the templates use.
 */

const Ref = z.object({ $ref: z.string().regex(/^#\/\d+$/) });
export type Ref = z.infer<typeof Ref>;

const Property = z.object({ type: Ref, flags: z.number().int().default(0), description: z.string().optional() });
export type Property = z.infer<typeof Property>;

const TypeNode = z.discriminatedUnion("$type", [
  z.object({ $type: z.literal("ResourceType"), name: z.string(), body: Ref }),
  z.object({
    $type: z.literal("ObjectType"),
    name: z.string().optional(),
    properties: z.record(z.string(), Property).default({}),
    additionalProperties: Ref.optional(),
  }),
  z.object({
    $type: z.literal("DiscriminatedObjectType"),
    name: z.string().optional(),
    discriminator: z.string(),
    baseProperties: z.record(z.string(), Property).default({}),
    elements: z.record(z.string(), Ref),
  }),
  z.object({ $type: z.literal("UnionType"), elements: z.array(Ref) }),
  z.object({ $type: z.literal("StringLiteralType"), value: z.string() }),
  z.object({
    $type: z.literal("StringType"),
    minLength: z.number().optional(),
    maxLength: z.number().optional(),
    pattern: z.string().optional(),
  }),
  z.object({ $type: z.literal("IntegerType"), minValue: z.number().optional(), maxValue: z.number().optional() }),
  z.object({ $type: z.literal("BooleanType") }),
  z.object({ $type: z.literal("ArrayType"), itemType: Ref }),
  z.object({ $type: z.literal("AnyType") }),
  z.object({ $type: z.literal("NullType") }),
]);
/** A type node this checker understands; anything else is `Unsupported` and accepted as is. */
export type TypeNode = z.infer<typeof TypeNode> | { $type: "Unsupported"; kind: string };

/** Property flags (azure-types/README.md). */
export const Flags = { Required: 1, ReadOnly: 2, WriteOnly: 4, DeployTimeConstant: 8, Identifier: 16 } as const;

/** A type node together with the file its `$ref`s are relative to. */
export interface TypeRef {
  file: SchemaFile;
  node: TypeNode;
}

export class SchemaFile {
  private readonly nodes: TypeNode[];

  constructor(
    readonly path: string,
    raw: unknown,
  ) {
    const array = z.array(z.unknown()).parse(raw);
    this.nodes = array.map((entry) => {
      const parsed = TypeNode.safeParse(entry);
      if (parsed.success) return parsed.data;
      const kind = z.object({ $type: z.string() }).safeParse(entry);
      return { $type: "Unsupported", kind: kind.success ? kind.data.$type : "unknown" };
    });
  }

  deref(ref: Ref): TypeRef {
    const index = Number(ref.$ref.slice(2));
    const node = this.nodes[index];
    if (!node) throw new Error(`${this.path}: dangling reference ${ref.$ref}`);
    return { file: this, node };
  }

  resourceTypes(): { name: string; body: Ref }[] {
    return this.nodes.flatMap((n) => (n.$type === "ResourceType" ? [{ name: n.name, body: n.body }] : []));
  }
}

export class ResourceSchemas {
  private readonly files = new Map<string, SchemaFile | null>();

  constructor(readonly dir: string) {}

  /** The body type of `type@apiVersion`, or undefined if the schemas do not define it. */
  lookup(type: string, apiVersion: string): TypeRef | undefined {
    const file = this.file(providerOf(type), apiVersion);
    const wanted = `${type}@${apiVersion}`.toLowerCase();
    const resource = file?.resourceTypes().find((r) => r.name.toLowerCase() === wanted);
    return resource && file ? file.deref(resource.body) : undefined;
  }

  /** API versions in which `type` is defined, to suggest one when the written version is not. */
  versionsOf(type: string): string[] {
    const providerDir = this.providerDir(providerOf(type));
    if (!providerDir) return [];
    return readdirSync(providerDir)
      .filter((version) => this.lookup(type, version) !== undefined)
      .sort();
  }

  private providerDir(provider: string): string | undefined {
    if (!existsSync(this.dir)) return undefined;
    const match = readdirSync(this.dir).find((d) => d.toLowerCase() === provider.toLowerCase());
    return match ? path.join(this.dir, match) : undefined;
  }

  private file(provider: string, apiVersion: string): SchemaFile | undefined {
    const key = `${provider.toLowerCase()}@${apiVersion}`;
    if (!this.files.has(key)) {
      const dir = this.providerDir(provider);
      const filePath = dir ? path.join(dir, apiVersion, "types.json") : undefined;
      this.files.set(key, filePath && existsSync(filePath) ? new SchemaFile(filePath, JSON.parse(readFileSync(filePath, "utf8"))) : null);
    }
    return this.files.get(key) ?? undefined;
  }
}

/** `Microsoft.Web/sites/config` is in the `microsoft.web` folder. */
function providerOf(type: string): string {
  return type.split("/")[0] ?? type;
}

/** AZURE_TYPES_DIR, else `../shared/azure-types` beside the repository. */
export function azureTypesDir(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.AZURE_TYPES_DIR ? path.resolve(repoRoot, env.AZURE_TYPES_DIR) : path.resolve(repoRoot, "..", "shared", "azure-types");
}
