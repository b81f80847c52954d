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
    // Packages that cost a program or plugin time at start and are needed only for some work are
    // loaded on first use, through one module each (README, "Performance"); types are free.
    files: ["**/*.ts"],
    ignores: [
      "**/*.test.ts",
      "test/**",
      "scripts/**",
      "bench/**",
      "examples/**",
      "resources/kit/xmlbuilder.ts",
      "rpc/transport/ssh2.ts",
    ],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "xmlbuilder2",
              message:
                "import create/fragment/convert from resources/kit/xmlbuilder.ts (loaded on first use)",
              allowTypeImports: true,
            },
            {
              name: "ssh2",
              message: "load it with loadSsh2() from rpc/transport/ssh2.ts (loaded on first use)",
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
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
