/*
 * Korean-aware search for Material for MkDocs, loaded before Material's bundle
 * (mkdocs.yml: extra.polyfills). Two jobs:
 *
 * 1. Query time. Material's worker gets each query through Worker.postMessage; this wraps
 *    it. A query word loses a trailing particle only when the rest is a word the index
 *    knows (기울기를 -> 기울기; 사이 stays 사이), and a word of the glossary brings its
 *    synonyms that the index has (야코비안 -> 야코비 jacobian). The known words, particles
 *    and synonyms come with the index (config.kb, written by notes_code/kb/search.py).
 * 2. Weight. Over http Material requests search/search_index.json when the page loads;
 *    this holds that request until the search box is focused or opened (or the page was
 *    opened from a search result: ?h= highlighting needs the index's config). From file://
 *    Material already loads search/search_index.js only when search opens.
 *
 * The pure functions are exported for Node (tests/kb/test_search.py runs them).
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.kbSearch = api;
    api.install(root);
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var HANGUL = /[\uAC00-\uD7A3]/;
  var SETUP = 0;  // Material's SearchMessageType
  var QUERY = 2;
  var OWN_WORD_BOOST = 2;

  /** The word without its particle, if the rest is a known word (else the word). */
  function stripParticle(word, kb) {
    var term = word.toLowerCase();
    if (!HANGUL.test(term) || kb.knownSet.has(term)) return term;
    for (var i = 0; i < kb.particles.length; i++) {
      var p = kb.particles[i];
      var stem = term.slice(0, term.length - p.length);
      if (term.length > p.length && term.endsWith(p) && Array.from(stem).length >= kb.minStem &&
          kb.knownSet.has(stem))
        return stem;
    }
    return term;
  }

  /** Index the shipped lists once: sets for lookup, word -> synonym group. */
  function prepare(raw) {
    if (!raw || raw.knownSet) return raw || null;
    var kb = {
      particles: raw.particles || [],
      minStem: raw.minStem || 2,
      knownSet: new Set(raw.known || []),
      present: new Set(raw.present || []),
      groupOf: new Map()
    };
    (raw.synonyms || []).forEach(function (group) {
      group.forEach(function (w) { kb.groupOf.set(w, group); });
    });
    return kb;
  }

  /**
   * The terms one query word stands for: itself (particle stripped) and its synonyms that
   * the index has. When synonyms are added, the word itself is boosted (lunr's `^`), so a
   * page that uses the reader's own word ranks above one that only uses a synonym.
   */
  function expandWord(word, kb) {
    var term = stripParticle(word, kb);
    var out = [term];
    var group = kb.groupOf.get(term) || kb.groupOf.get(word.toLowerCase());
    if (group)
      group.forEach(function (w) {
        if (out.indexOf(w) < 0 && kb.present.has(w)) out.push(w);
      });
    if (out.length > 1 && kb.present.has(term)) out[0] = term + "*^" + OWN_WORD_BOOST;
    return out;
  }

  /**
   * Rewrite a query for Material's worker. Words with lunr syntax (+ - ~ ^ * :) and
   * quoted phrases pass unchanged; every other word is expanded by expandWord.
   */
  function transformQuery(query, rawKb) {
    var kb = prepare(rawKb);
    if (!kb || typeof query !== "string") return query;
    return query.split(/("[^"]*")/).map(function (part, i) {
      if (i % 2 === 1) return part;  // a quoted phrase
      return part.split(/(\s+)/).map(function (word) {
        if (!word.trim() || /[+\-~^*:]/.test(word)) return word;
        return expandWord(word, kb).join(" ");
      }).join("");
    }).join("");
  }

  /** Hold the request for the search index until search is opened. */
  function deferIndex(win) {
    if (win.location.protocol === "file:" || !win.XMLHttpRequest) return function () {};
    var opened = false;
    var queue = [];
    var proto = win.XMLHttpRequest.prototype;
    var open = proto.open;
    var send = proto.send;
    function release() {
      if (opened) return;
      opened = true;
      queue.splice(0).forEach(function (fn) { fn(); });
    }
    proto.open = function (method, url) {
      this.__kbIndex = /(^|\/)search\/search_index\.json([?#]|$)/.test(String(url));
      return open.apply(this, arguments);
    };
    proto.send = function () {
      var xhr = this;
      var args = arguments;
      if (xhr.__kbIndex && !opened) {
        queue.push(function () { send.apply(xhr, args); });
        return undefined;
      }
      return send.apply(xhr, args);
    };
    var doc = win.document;
    doc.addEventListener("focusin", function (ev) {
      var el = ev.target;
      if (el && el.matches && el.matches("input.md-search__input, [data-md-component=search-query]"))
        release();
    }, true);
    doc.addEventListener("change", function (ev) {
      if (ev.target && ev.target.id === "__search" && ev.target.checked) release();
    }, true);
    try {
      // ?q= opens search; ?h= (a page opened from a result) highlights with the index's config
      var params = new URL(win.location.href).searchParams;
      if (params.has("q") || params.has("h")) release();
    } catch (e) { /* no URL support: the index loads when search opens */ }
    return release;
  }

  /** Wrap the Worker class so that queries reach Material's worker transformed. */
  function wrapWorker(win) {
    var Base = win.Worker;
    if (typeof Base !== "function") return;
    var kb = null;
    var Wrapped = class extends Base {
      postMessage(message) {
        var rest = Array.prototype.slice.call(arguments, 1);
        if (message && message.type === SETUP && message.data && message.data.config) {
          kb = prepare(message.data.config.kb);
        } else if (message && message.type === QUERY && kb) {
          message = { type: QUERY, data: transformQuery(message.data, kb) };
        }
        return super.postMessage.apply(this, [message].concat(rest));
      }
    };
    win.Worker = Wrapped;
  }

  /** Material's search dialog has role="dialog" but no name: give it the search label. */
  function nameSearchDialog(doc) {
    var dialog = doc.querySelector(".md-search[role=dialog]:not([aria-label])");
    var input = doc.querySelector("input.md-search__input");
    if (dialog) dialog.setAttribute("aria-label", (input && input.getAttribute("aria-label")) || "검색");
  }

  function install(win) {
    if (!win || !win.document || win.kbSearchInstalled) return;
    win.kbSearchInstalled = true;
    win.kbSearchLoadIndex = deferIndex(win);
    wrapWorker(win);
    if (win.document.readyState === "loading")
      win.document.addEventListener("DOMContentLoaded", function () { nameSearchDialog(win.document); });
    else
      nameSearchDialog(win.document);
  }

  return {
    stripParticle: function (word, raw) { return stripParticle(word, prepare(raw)); },
    expandWord: function (word, raw) { return expandWord(word, prepare(raw)); },
    transformQuery: transformQuery,
    install: install
  };
});
