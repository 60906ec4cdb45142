import { readFile, readdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { Language, Parser, type Node, type Tree } from "web-tree-sitter";
import { problem, type Location, type Problem } from "./problems.js";

/** A parsed .bicep file. The tree stays alive as long as the file object is used. */
export interface BicepFile {
  /** Absolute path. */
  path: string;
  source: string;
  tree: Tree;
  root: Node;
}

let parserReady: Promise<Parser> | undefined;

/** One parser per process: loading the two wasm modules is the slow part. */
function bicepParser(): Promise<Parser> {
  parserReady ??= (async () => {
    await Parser.init();
    const require = createRequire(import.meta.url);
    const wasm = require.resolve("tree-sitter-bicep/tree-sitter-bicep.wasm");
    const language = await Language.load(wasm);
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserReady;
}

export async function parseBicepSource(filePath: string, source: string): Promise<BicepFile> {
  const parser = await bicepParser();
  const tree = parser.parse(source);
  if (!tree) throw new Error(`tree-sitter returned no tree for ${filePath}`);
  return { path: path.resolve(filePath), source, tree, root: tree.rootNode };
}

export async function parseBicepFile(filePath: string): Promise<BicepFile> {
  return parseBicepSource(filePath, await readFile(filePath, "utf8"));
}

/** Every .bicep file under `dir`, recursively, in a stable order. */
export async function loadBicepFiles(dir: string): Promise<BicepFile[]> {
  return Promise.all((await bicepPaths(dir)).sort().map(parseBicepFile));
}

async function bicepPaths(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules") found.push(...(await bicepPaths(full)));
    else if (entry.isFile() && entry.name.endsWith(".bicep")) found.push(full);
  }
  return found;
}

/** 1-based position of a node, for problems. */
export function locate(file: BicepFile, node: Node): Location {
  return { file: file.path, line: node.startPosition.row + 1, column: node.startPosition.column + 1 };
}

/**
 * Syntax errors (ERROR and MISSING nodes), plus one construct the grammar accepts but may read
 * differently from Bicep: a call that begins an array element (`[ f(x, y) ]`) is sometimes
 * split into the element `f` and the element `(x, y)`, so every later check would see the
 * wrong tree. Two elements can only touch like that when this has happened.
 */
export function checkSyntax(files: readonly BicepFile[]): Problem[] {
  const problems: Problem[] = [];
  for (const file of files) {
    if (file.root.hasError) {
      visit(file.root, (node) => {
        if (node.isMissing) {
          problems.push(problem("syntax", "syntax-error", locate(file, node), `missing ${node.type}`));
          return false;
        }
        if (node.isError) {
          const text = node.text.split("\n")[0]?.slice(0, 40) ?? "";
          problems.push(problem("syntax", "syntax-error", locate(file, node), `unexpected \`${text}\``));
          return false;
        }
        return node.hasError;
      });
    }
    visit(file.root, (node) => {
      if (node.type !== "array") return true;
      const items = node.namedChildren.filter((c) => c.type !== "comment");
      items.forEach((item, i) => {
        const next = items[i + 1];
        if (item.type === "identifier" && next?.startIndex === item.endIndex) {
          problems.push(
            problem(
              "syntax",
              "ambiguous-call-in-array",
              locate(file, item),
              `the call \`${item.text}(...)\` starting an array element is misread by the tree-sitter grammar; move it into a variable`,
            ),
          );
        }
      });
      return true;
    });
  }
  return problems;
}

/** Depth-first walk; `enter` returns false to skip a node's children. */
export function visit(node: Node, enter: (node: Node) => boolean): void {
  if (!enter(node)) return;
  for (const child of node.children) if (child) visit(child, enter);
}
