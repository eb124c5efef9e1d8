// The query page: sends the editor's query to the SPARQL endpoint over the SPARQL 1.1
// Protocol (https://www.w3.org/TR/sparql11-protocol/) and shows the answer as a table.
// Results arrive as SPARQL JSON (https://www.w3.org/TR/sparql11-results-json/) or, for
// CONSTRUCT/DESCRIBE, as N-Triples. Every value is put in the page as text, never as HTML.
"use strict";

(function () {
  const ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9";

  const form = document.getElementById("query-form");
  if (!form) return;
  const editor = document.getElementById("query");
  const picker = document.getElementById("example");
  const statusLine = document.getElementById("status");
  const errorBox = document.getElementById("error");
  const results = document.getElementById("results");
  const resultsBody = document.getElementById("results-body");
  const downloads = document.getElementById("downloads");
  const endpoint = form.dataset.endpoint;
  const baseIri = form.dataset.baseIri;
  const prefixes = Object.entries(JSON.parse(form.dataset.prefixes || "{}"))
    .sort((a, b) => b[1].length - a[1].length);

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    return node;
  }

  function localHref(iri) {
    return iri.startsWith(baseIri) ? "/" + iri.slice(baseIri.length) : iri;
  }

  function shortName(iri) {
    for (const [prefix, ns] of prefixes) {
      if (iri.startsWith(ns) && iri.length > ns.length) return prefix + ":" + iri.slice(ns.length);
    }
    return iri;
  }

  // One RDF term (SPARQL JSON shape: {type, value, xml:lang?, datatype?}) as a table cell.
  function cell(term) {
    const td = el("td");
    if (!term) return td;
    if (term.type === "uri") {
      const href = localHref(term.value);
      const safe = /^(https?:|\/)/i.test(href);
      td.appendChild(el(safe ? "a" : "span", shortName(term.value),
        safe ? { href: href, title: term.value } : { title: term.value }));
    } else if (term.type === "bnode") {
      td.appendChild(el("span", "_:" + term.value, { class: "bnode" }));
    } else {
      td.appendChild(el("span", term.value, { class: "literal" }));
      const note = term["xml:lang"] ? "@" + term["xml:lang"]
        : term.datatype ? "^^" + shortName(term.datatype) : "";
      if (note) td.appendChild(el("span", note, { class: "datatype" }));
    }
    return td;
  }

  function table(columns, rows) {
    const t = el("table", null, { id: "result-table" });
    const head = el("tr");
    for (const name of columns) head.appendChild(el("th", name, { scope: "col" }));
    t.appendChild(el("thead")).appendChild(head);
    const body = t.appendChild(el("tbody"));
    for (const row of rows) {
      const tr = el("tr");
      for (const name of columns) tr.appendChild(cell(row[name]));
      body.appendChild(tr);
    }
    return t;
  }

  // --- N-Triples (https://www.w3.org/TR/n-triples/), enough to show a CONSTRUCT result ---
  const TERM = /\s*(<[^>]*>|_:\S+|"(?:[^"\\]|\\.)*"(?:@[A-Za-z0-9-]+|\^\^<[^>]*>)?)/y;

  function unescape(text) {
    return text.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (_, e) => {
      if (e[0] === "u" || e[0] === "U") return String.fromCodePoint(parseInt(e.slice(1), 16));
      return { t: "\t", b: "\b", n: "\n", r: "\r", f: "\f" }[e] || e;
    });
  }

  function ntTerm(token) {
    if (token[0] === "<") return { type: "uri", value: unescape(token.slice(1, -1)) };
    if (token[0] === "_") return { type: "bnode", value: token.slice(2) };
    const m = /^"((?:[^"\\]|\\.)*)"(?:@(.+)|\^\^<(.*)>)?$/.exec(token);
    const term = { type: "literal", value: unescape(m[1]) };
    if (m[2]) term["xml:lang"] = m[2];
    if (m[3]) term.datatype = m[3];
    return term;
  }

  function parseNTriples(text) {
    const triples = [];
    for (const line of text.split("\n")) {
      if (!line.trim() || line.trim().startsWith("#")) continue;
      TERM.lastIndex = 0;
      const parts = [];
      for (let i = 0; i < 3; i++) {
        const m = TERM.exec(line);
        if (!m) break;
        parts.push(ntTerm(m[1]));
      }
      if (parts.length === 3) triples.push({ subject: parts[0], predicate: parts[1], object: parts[2] });
    }
    return triples;
  }

  // --- running a query ---
  function downloadLinks(query, kind) {
    const formats = kind === "graph" ? [["Turtle", "turtle", "ttl"], ["JSON-LD", "jsonld", "jsonld"]]
      : kind === "boolean" ? [["JSON", "json", "json"]]
        : [["CSV", "csv", "csv"], ["JSON", "json", "json"]];
    downloads.replaceChildren(document.createTextNode("Download: "));
    for (const [label, format, suffix] of formats) {
      const params = new URLSearchParams({ query: query, format: format });
      const a = el("a", label, { href: endpoint + "?" + params, download: "result." + suffix,
        id: "download-" + format });
      downloads.append(a, " ");
    }
    downloads.hidden = false;
  }

  function showError(status, text) {
    errorBox.hidden = false;
    document.getElementById("error-status").textContent = status;
    document.getElementById("error-text").textContent = text;
    statusLine.textContent = "The query failed.";
  }

  function showResult(contentType, body, query, elapsed) {
    let kind, count;
    if (contentType.includes("json")) {
      const data = JSON.parse(body);
      if (typeof data.boolean === "boolean") {
        kind = "boolean";
        resultsBody.replaceChildren(el("p", data.boolean ? "true" : "false", { id: "result-boolean" }));
        count = 1;
      } else {
        kind = "solutions";
        resultsBody.replaceChildren(table(data.head.vars, data.results.bindings));
        count = data.results.bindings.length;
      }
    } else {
      kind = "graph";
      const triples = parseNTriples(body);
      resultsBody.replaceChildren(table(["subject", "predicate", "object"], triples));
      count = triples.length;
    }
    results.hidden = false;
    downloadLinks(query, kind);
    const noun = kind === "graph" ? "triple" : kind === "boolean" ? "answer" : "row";
    statusLine.textContent = `${count} ${noun}${count === 1 ? "" : "s"} in ${elapsed} ms.`;
  }

  async function run(options) {
    const query = editor.value;
    if (!(options && options.fromHistory)) {
      const url = "/query?" + new URLSearchParams({ query: query });
      history.pushState({ query: query }, "", url);
    }
    errorBox.hidden = true;
    results.hidden = true;
    downloads.hidden = true;
    statusLine.textContent = "Running…";
    const started = performance.now();
    let response, body;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: ACCEPT },
        body: new URLSearchParams({ query: query }),
      });
      body = await response.text();
    } catch (failure) {
      showError("The endpoint could not be reached", String(failure));
      return;
    }
    if (!response.ok) {
      showError(`HTTP ${response.status} ${response.statusText}`, body);
      return;
    }
    const elapsed = Math.round(performance.now() - started);
    try {
      showResult(response.headers.get("Content-Type") || "", body, query, elapsed);
    } catch (failure) {
      showError("The answer could not be read", String(failure));
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });

  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });

  if (picker) {
    picker.addEventListener("change", () => {
      const option = picker.selectedOptions[0];
      if (!option || !option.dataset.query) return;
      editor.value = option.dataset.query;
      history.replaceState(null, "", "/query?" + new URLSearchParams({ example: option.value }));
      editor.focus();
    });
  }

  window.addEventListener("popstate", () => {
    const query = new URLSearchParams(location.search).get("query");
    if (query !== null) {
      editor.value = query;
      run({ fromHistory: true });
    }
  });

  if (form.dataset.runOnLoad === "true") run({ fromHistory: true });
})();
