// Parse Mermaid diagrams with Mermaid itself: `node check.mjs FILE...`.
// Prints "OK FILE" or "FAIL FILE: why" per file; exits 1 if any file fails.
// Mermaid expects a browser, so a jsdom window stands in for one (parsing draws nothing).
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const name of ["Element", "HTMLElement", "SVGElement", "Node", "DOMParser"]) {
  if (!(name in globalThis)) globalThis[name] = dom.window[name];
}

const mermaid = (await import("mermaid")).default;
mermaid.initialize({ startOnLoad: false });

let failed = 0;
for (const file of process.argv.slice(2)) {
  try {
    const result = await mermaid.parse(readFileSync(file, "utf8"));
    console.log(`OK ${file} ${result.diagramType}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${file}: ${(error && error.message) || error}`);
  }
}
process.exit(failed ? 1 : 0);
