// Lint settings: typescript-eslint's recommended rules, plus the one-way layer rule from style.md:
// rpc/ never imports the provider side or Pulumi.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
    files: ["rpc/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@pulumi/*"], message: "rpc/ must not depend on Pulumi" },
            {
              group: ["**/provider/**", "**/resources/**", "**/sdk/**"],
              message: "rpc/ is the bottom layer",
            },
          ],
        },
      ],
    },
  },
  {
    // provider/index.ts is the composition root; the rest of provider/ is shared by resources/.
    files: ["provider/**/*.ts"],
    ignores: ["provider/index.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/resources/**"],
              message: "resources/ depend on provider/, not the reverse",
            },
          ],
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
