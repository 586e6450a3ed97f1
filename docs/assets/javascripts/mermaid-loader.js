// Material renders ```mermaid fences with the global `mermaid`, and loads it from a CDN when
// it is undefined. This stand-in defines it, so the site makes no request to another host,
// and fetches the vendored copy (MIT, npm package `mermaid`) only on pages that have a diagram.
(() => {
  const source = new URL("vendor/mermaid-11.17.2/mermaid.min.js", document.currentScript.src).href;
  let settings = {};
  let loaded;

  function load() {
    loaded ??= new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = source;
      // The bundle replaces `window.mermaid` with the real library when it runs.
      script.onload = () => {
        window.mermaid.initialize(settings);
        resolve(window.mermaid);
      };
      script.onerror = () => reject(new Error(`could not load ${source}`));
      document.head.appendChild(script);
    });
    return loaded;
  }

  window.mermaid = {
    initialize(config) {
      settings = config;
    },
    render(id, text) {
      return load().then((library) => library.render(id, text));
    },
  };
})();
