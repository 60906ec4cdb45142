import path from "node:path";

/** The family a problem belongs to; each family is one exported check. */
export type CheckName = "syntax" | "schema" | "security" | "deployment" | "contract" | "wiring";

/** One thing wrong with infra/, pinned to a place a reader can open. */
export interface Problem {
  check: CheckName;
  /** Stable, specific kind (e.g. `unknown-property`), what tests assert on. */
  code: string;
  /** Absolute path of the file the problem is in. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
}

/** Where something is: enough to build a Problem. */
export interface Location {
  file: string;
  line: number;
  column: number;
}

export function problem(check: CheckName, code: string, at: Location, message: string): Problem {
  return { check, code, file: at.file, line: at.line, column: at.column, message };
}

/** `infra/main.bicep:12:5 schema/unknown-property: ...`, paths relative to `base`. */
export function formatProblem(p: Problem, base: string = process.cwd()): string {
  return `${path.relative(base, p.file)}:${p.line}:${p.column} ${p.check}/${p.code}: ${p.message}`;
}

/** Stable order for reports: by file, then position. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code),
  );
}
