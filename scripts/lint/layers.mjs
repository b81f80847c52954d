// The lint rule `virtwire/layers`: imports run one way,
//
//   sdk → provider → resources/<kind> → resources/kit, transfer → rpc
//
// A module may import its own layer and any layer below; kit and transfer, side by side, not each
// other. Only relative imports are checked (packages are the other rules' business).
import path from "node:path";

const order = ["rpc", "kit", "transfer", "resources", "provider", "sdk"];
const rank = { rpc: 0, kit: 1, transfer: 1, resources: 2, provider: 3, sdk: 4 };

/** The layer of a path relative to the repository root, or undefined for files outside them. */
function layerOf(relative) {
  const parts = relative.split(path.sep);
  if (parts[0] === "resources") return parts[1] === "kit" ? "kit" : "resources";
  if (parts.length === 1 && parts[0].startsWith("index.")) return "sdk";
  return order.includes(parts[0]) ? parts[0] : undefined;
}

export const layers = {
  meta: {
    type: "problem",
    docs: { description: "imports run one way: sdk → provider → resources → kit/transfer → rpc" },
    schema: [],
    messages: {
      upward:
        "{{from}}/ must not import {{to}}/ ({{spec}}): layers run sdk → provider → resources → " +
        "resources/kit and transfer → rpc (DEVELOPERS.md, Layers)",
    },
  },
  create(context) {
    const root = context.cwd;
    const file = context.filename ?? context.getFilename();
    const from = layerOf(path.relative(root, file));
    if (!from) return {};
    const check = (node, spec) => {
      if (typeof spec !== "string" || !spec.startsWith(".")) return;
      const to = layerOf(path.relative(root, path.resolve(path.dirname(file), spec)));
      if (!to || to === from) return;
      if (rank[to] < rank[from]) return;
      context.report({ node, messageId: "upward", data: { from: dir(from), to: dir(to), spec } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      TSImportEqualsDeclaration: (node) =>
        node.moduleReference.type === "TSExternalModuleReference" &&
        check(node, node.moduleReference.expression.value),
      ImportExpression: (node) => node.source.type === "Literal" && check(node, node.source.value),
      // A deferred load (`require("./x")` inside a function) is an import too.
      CallExpression: (node) =>
        node.callee.type === "Identifier" &&
        node.callee.name === "require" &&
        node.arguments[0]?.type === "Literal" &&
        check(node, node.arguments[0].value),
    };
  },
};

function dir(layer) {
  return layer === "kit" ? "resources/kit" : layer;
}
