// Parse one Mermaid diagram (read from stdin) with the site's own vendored mermaid bundle.
// Usage: node mermaid_parse.js path/to/mermaid.min.js < diagram.mmd
// Prints the diagram type and exits 0, or prints the parse error and exits 1.
"use strict";
const fs = require("fs");
const vm = require("vm");

// The bundle expects a browser; parsing needs none of it, so a few inert stand-ins suffice.
globalThis.window = globalThis;
globalThis.self = globalThis;
globalThis.addEventListener = () => {};
globalThis.navigator = { userAgent: "node" };
// DOMPurify sees a document (nodeType 9) without an HTML parser, reports itself unsupported and
// returns labels unchanged, which is all parsing needs.
globalThis.Element = function Element() {};
globalThis.Node = function Node() {};
globalThis.document = {
  nodeType: 9,
  createElement: () => ({ style: {}, setAttribute() {}, appendChild() {} }),
  querySelector: () => null,
  body: { appendChild() {} },
  documentElement: { style: {} },
};
vm.runInThisContext(fs.readFileSync(process.argv[2], "utf8"));

globalThis.mermaid.initialize({ startOnLoad: false });
const diagram = fs.readFileSync(0, "utf8");
globalThis.mermaid.parse(diagram).then(
  (result) => console.log(result.diagramType),
  (error) => {
    console.log(String(error.message || error));
    process.exit(1);
  },
);
