// Runs Material's own search worker under Node and prints the results of each query as JSON.
// Usage: node search_harness.js WORKER.js search_index.json QUERY...
const fs = require("fs");

const [workerPath, indexPath, ...queries] = process.argv.slice(2);
let onMessage;
let reply;
globalThis.self = globalThis;
globalThis.addEventListener = (type, handler) => { onMessage = handler; };
globalThis.postMessage = (message) => reply(message);
require(workerPath);

const send = (data) => new Promise((resolve) => { reply = resolve; onMessage({ data }); });

(async () => {
  // The page sends the index with the options its features enable (`search.suggest`).
  const index = JSON.parse(fs.readFileSync(indexPath, "utf8"));
  await send({ type: 0, data: { ...index, options: { suggest: true } } });
  const results = {};
  for (const query of queries) {
    const answer = await send({ type: 2, data: query });
    results[query] = answer.data.items.map((group) => group[0].location);
  }
  process.stdout.write(JSON.stringify(results));
})();
