// Typeset the math that pymdownx.arithmatex (generic mode) leaves in
// `.arithmatex` elements, with the KaTeX served by this site. Subscribing to
// Material's `document$` makes it run again after instant navigation.
(function () {
  function typeset() {
    document.querySelectorAll(".arithmatex").forEach(function (el) {
      renderMathInElement(el, {
        delimiters: [
          { left: "\\(", right: "\\)", display: false },
          { left: "\\[", right: "\\]", display: true },
        ],
        throwOnError: false,
        strict: false,
      });
    });
  }
  // Typesetting is idempotent (rendered math has no delimiters left), so run it
  // both on each instant-navigation page (document$) and once the page is parsed:
  // read from file://, Material may emit document$ before this script subscribes.
  if (typeof document$ !== "undefined") {
    document$.subscribe(typeset);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", typeset);
  } else {
    typeset();
  }
})();
