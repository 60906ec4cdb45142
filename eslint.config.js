// ESLint: typescript-eslint's type-aware recommended rules over every TypeScript file,
// with Prettier owning the layout (eslint-config-prettier is not needed: the
// recommended sets contain no formatting rules). Run by `npm test` with --max-warnings 0.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "package/", ".local/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // `_name` marks a value taken apart on purpose (destructuring to leave a field out).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      // An `async` method that awaits nothing still says it keeps a Promise-returning contract
      // (a port, a channel, a handler), and turns a throw into a rejection as callers expect.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // Tests, benchmarks and the demo read JSON bodies as `any` on purpose and check them field by field.
    files: ["test/**/*.ts", "bench/**/*.ts", "shared/local/demo.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  { files: ["**/*.js", "**/*.cjs"], ...tseslint.configs.disableTypeChecked },
  { files: ["**/*.cjs"], languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } } },
);
