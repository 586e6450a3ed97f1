// Prepended to Material's search worker by hooks/search_index.py (guidekit/site/search_index.py
// says why): rewrites each query before the worker reads it. The worker appends `*` to every term,
// so a stop word typed in a heading ("a", "the") would match hundreds of words; and lunr would read
// `x:y` as a field, `-x` as "must not contain", `^`, `~` and `*` as operators. Here the query is cut
// with the separator the index was cut with, the pieces that are stop words are dropped (unless
// nothing else is left), and lunr's operator characters become spaces. Each word left is then sent
// twice: as typed with a boost (`test^20`, which the worker leaves without `*`) and plain (`test`,
// to which the worker appends `*`), so the exact word outranks the longer words it starts. A colon
// inside a name (`transaction:false`) stays: the index keeps such a name whole, so lunr's lexer is
// told to read a colon as part of the term, never as the end of a field name (the site's search
// box has no field syntax). For a query of several words, the sections that hold them in a row are
// weighed `PHRASE_BOOST` times and the answers sorted again.
(() => {
  const OPERATORS = /[\\^~*]+/;
  // Each kept word is also asked for as typed, weighed this many times: the worker's `*` alone
  // lets `test` match every rare `test_...` name, and a section writing many of them outranked
  // the heading "The test" (lunr adds the weights of the two clauses on the same word). At 10, the
  // tests page that lists dozens of `test_...` names still did.
  const EXACT_BOOST = 20;

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

  // lunr's BM25 with a length normalisation of its own for the title field (Material sets b = 0
  // for every field): the same as lunr.Builder.prototype.createFieldVectors (lunr 2.3.9) but for
  // `b`, so a heading that is the query outranks a heading that holds it among other words.
  const TITLE_B = 0.75;
  const normaliseTitles = (lunr) => {
    if (lunr.Builder.prototype.titlesNormalised) return;
    lunr.Builder.prototype.titlesNormalised = true;
    lunr.Builder.prototype.createFieldVectors = function () {
      const fieldVectors = {};
      const idfs = Object.create(null);
      for (const key of Object.keys(this.fieldTermFrequencies)) {
        const fieldRef = lunr.FieldRef.fromString(key);
        const name = fieldRef.fieldName;
        const b = name === "title" ? TITLE_B : this._b;
        const length = this.fieldLengths[fieldRef];
        const vector = new lunr.Vector();
        const frequencies = this.fieldTermFrequencies[fieldRef];
        const fieldBoost = this._fields[name].boost || 1;
        const docBoost = this._documents[fieldRef.docRef].boost || 1;
        for (const term of Object.keys(frequencies)) {
          const tf = frequencies[term];
          const posting = this.invertedIndex[term];
          if (idfs[term] === undefined) idfs[term] = lunr.idf(posting, this.documentCount);
          const norm = this._k1 * (1 - b + b * (length / this.averageFieldLength[name])) + tf;
          const score = ((idfs[term] * ((this._k1 + 1) * tf)) / norm) * fieldBoost * docBoost;
          vector.insert(posting._index, Math.round(score * 1000) / 1000);
        }
        fieldVectors[fieldRef] = vector;
      }
      this.fieldVectors = fieldVectors;
    };
  };

  // A query of several words typed together (`request.json()`, `FOR UPDATE`) is first of all a
  // phrase: lunr scores each word apart, so a section whose title holds one common word of it
  // ("One JSON object per line") outranked the section that writes the whole phrase. A section
  // whose title or text holds the query's words in a row, both cut by the index's separator, has
  // its score weighed this many times; then each page's sections, and the pages by their best
  // section, are put in order again.
  const PHRASE_BOOST = 2;
  const ENTITIES = { "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&#39;": "'" };
  // The words of a query or a field in order, lower-cased, with a space on each side (" for update ").
  const wordsOf = (text) => {
    const words = [];
    for (const word of text.split(OPERATORS)) {
      for (const piece of word.split(self.lunr.tokenizer.separator)) if (piece) words.push(piece.toLowerCase());
    }
    return ` ${words.join(" ")} `;
  };
  const phraseOf = (query) => {
    const lunr = self.lunr;
    if (typeof query !== "string" || !lunr || !lunr.tokenizer.separator) return null;
    const phrase = wordsOf(query);
    return phrase.trim().includes(" ") ? phrase : null;
  };
  // The sections the page sent, by location: an answer holds only the first paragraphs that
  // match, and a phrase may come later. Each is cut once, when a phrase first looks at it.
  let indexed = new Map();
  const cut = new Map();
  const fieldsOf = (location) => {
    if (!cut.has(location)) {
      const section = indexed.get(location) || {};
      const plain = (html) =>
        String(html || "")
          .replace(/<[^>]*>/g, " ")
          .replace(/&(?:lt|gt|amp|quot|#39);/g, (entity) => ENTITIES[entity]);
      cut.set(location, [wordsOf(plain(section.title)), wordsOf(plain(section.text))]);
    }
    return cut.get(location);
  };
  const holds = (location, phrase) => fieldsOf(location).some((words) => words.includes(phrase));
  const byPhrase = (items, phrase) => {
    const pages = items.map((sections, order) => {
      const weighed = sections.map((section) =>
        holds(section.location, phrase) ? { ...section, score: section.score * PHRASE_BOOST } : section,
      );
      weighed.sort((a, b) => b.score - a.score); // stable: the page's own entry, if unscored, stays last
      return { weighed, order, best: weighed.length ? weighed[0].score : 0 };
    });
    pages.sort((a, b) => b.best - a.best || a.order - b.order);
    return pages.map(({ weighed }) => weighed);
  };

  // The phrase of each query in the order they came (null: one word); the worker answers each in turn.
  const asked = [];
  const post = self.postMessage.bind(self);
  self.postMessage = (message, ...options) => {
    if (message && message.type === 3 && asked.length) {
      const phrase = asked.shift();
      if (phrase && message.data && Array.isArray(message.data.items)) {
        message = { ...message, data: { ...message.data, items: byPhrase(message.data.items, phrase) } };
      }
    }
    return post(message, ...options);
  };

  const listen = self.addEventListener.bind(self);
  self.addEventListener = (type, handler, ...options) => {
    if (type !== "message") return listen(type, handler, ...options);
    const rewritten = (event) => {
      const message = event.data;
      if (message && message.type === 0 && self.lunr) {
        normaliseTitles(self.lunr);
        indexed = new Map((message.data.docs || []).map((section) => [section.location, section]));
        cut.clear();
      }
      if (!message || message.type !== 2) return handler(event);
      const query = rewrite(message.data);
      asked.push(phraseOf(message.data));
      return handler({ data: { ...message, data: query } });
    };
    return listen(type, rewritten, ...options);
  };
  self.searchQueryRewrite = rewrite;
})();
