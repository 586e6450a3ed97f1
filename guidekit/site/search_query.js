// Prepended to Material's search worker by hooks/search_index.py (guidekit/site/search_index.py
// says why): rewrites each query before the worker reads it. The worker appends `*` to every term,
// so a stop word typed in a heading ("a", "the") would match hundreds of words; and lunr would read
// `x:y` as a field, `-x` as "must not contain", `^`, `~` and `*` as operators. Here the query is cut
// with the separator the index was cut with, the pieces that are stop words are dropped (unless
// nothing else is left), and lunr's operator characters become spaces. Each word left is then sent
// twice: as typed with a boost (`test^10`, which the worker leaves without `*`) and plain (`test`,
// to which the worker appends `*`), so the exact word outranks the longer words it starts. A colon
// inside a name (`transaction:false`) stays: the index keeps such a name whole, so lunr's lexer is
// told to read a colon as part of the term, never as the end of a field name (the site's search
// box has no field syntax).
(() => {
  const OPERATORS = /[\\^~*]+/;
  // Each kept word is also asked for as typed, weighed this many times: the worker's `*` alone
  // lets `test` match every rare `test_...` name, and a section writing many of them outranked
  // the heading "The test" (lunr adds the weights of the two clauses on the same word).
  const EXACT_BOOST = 10;

  const rewrite = (query) => {
    const lunr = self.lunr;
    if (typeof query !== "string" || !lunr || !lunr.tokenizer.separator) return query;
    lunr.QueryLexer.lexField = () => lunr.QueryLexer.lexText;
    const pieces = [];
    for (const word of query.split(OPERATORS)) {
      for (const piece of word.split(lunr.tokenizer.separator)) {
        if (piece && !pieces.includes(piece)) pieces.push(piece);
      }
    }
    const words = pieces.filter((piece) => lunr.stopWordFilter(new lunr.Token(piece.toLowerCase())));
    const kept = words.length ? words : pieces;
    return kept.map((piece) => `${piece}^${EXACT_BOOST} ${piece}`).join(" ");
  };

  const listen = self.addEventListener.bind(self);
  self.addEventListener = (type, handler, ...options) => {
    if (type !== "message") return listen(type, handler, ...options);
    const rewritten = (event) => {
      const message = event.data;
      if (!message || message.type !== 2) return handler(event);
      return handler({ data: { ...message, data: rewrite(message.data) } });
    };
    return listen(type, rewritten, ...options);
  };
  self.searchQueryRewrite = rewrite;
})();
