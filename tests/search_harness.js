// Runs Material's own search worker under Node and prints the results of each query as JSON.
// Usage: node search_harness.js WORKER.js search_index.json [--together] QUERY...
// With --together, every query is sent before the first answer is read, as fast typing does.
const fs = require("fs");

const [workerPath, indexPath, ...rest] = process.argv.slice(2);
const together = rest[0] === "--together";
const queries = together ? rest.slice(1) : rest;
let onMessage;
const waiting = [];
let sent = 0;
let sentBeforeFirstAnswer = null;
globalThis.self = globalThis;
globalThis.addEventListener = (type, handler) => { onMessage = handler; };
globalThis.postMessage = (message) => {
  if (message.type === 3 && sentBeforeFirstAnswer === null) sentBeforeFirstAnswer = sent;
  waiting.shift()(message);
};
require(workerPath);

const send = (data) => new Promise((resolve) => {
  if (data.type === 2) sent += 1;
  waiting.push(resolve);
  onMessage({ data });
});

(async () => {
  // The page sends the index with the options its features enable (`search.suggest`).
  const index = JSON.parse(fs.readFileSync(indexPath, "utf8"));
  await send({ type: 0, data: { ...index, options: { suggest: true } } });
  const answers = together
    ? await Promise.all(queries.map((query) => send({ type: 2, data: query })))
    : [];
  if (!together) for (const query of queries) answers.push(await send({ type: 2, data: query }));
  if (together && sentBeforeFirstAnswer !== queries.length) {
    process.stderr.write(`--together sent ${sentBeforeFirstAnswer} of ${queries.length} queries before the first answer\n`);
    process.exit(1);
  }
  const results = {};
  queries.forEach((query, number) => {
    results[query] = answers[number].data.items.map((group) => group[0].location);
  });
  process.stdout.write(JSON.stringify(results));
})();
