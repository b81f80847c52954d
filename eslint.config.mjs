// Lint settings: typescript-eslint's recommended rules, plus the one-way layer rule (DEVELOPERS.md,
// "Layers"), which tests, scripts and benchmarks are free of.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { layers } from "./scripts/lint/layers.mjs";

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "node_modules/",
      "coverage/",
      "sdk/",
      "examples/**/node_modules/",
      "reports/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["**/*.ts"],
    ignores: ["**/*.test.ts", "test/**", "scripts/**", "bench/**", "examples/**"],
    plugins: { virtwire: { rules: { layers } } },
    rules: { "virtwire/layers": "error" },
  },
  {
    files: ["rpc/**/*.ts", "transfer/**/*.ts", "resources/kit/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [{ group: ["@pulumi/*"], message: "only provider/ and sdk/ speak to Pulumi" }],
        },
      ],
    },
  },
  {
    files: ["*.js", "scripts/**/*.js"],
    languageOptions: {
      globals: {
        module: "writable",
        require: "readonly",
        __dirname: "readonly",
        process: "readonly",
        console: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
