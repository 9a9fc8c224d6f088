// sitegen live preview client: injected by `sitegen serve` only, never part of a build.
//
// Listens to the server's Server-Sent Events. When the page on screen changed, it fetches
// the new version and patches only the elements that differ (so the reader's place and
// the math MathJax already typeset elsewhere are kept), then asks MathJax to typeset the
// new elements. Anything else (a stylesheet, the configuration) reloads the page and
// restores the scroll position.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = (script && script.getAttribute("data-baseurl")) || "";
  var endpoint = (script && script.getAttribute("data-events")) || "/__sitegen/events";
  var SCROLL_KEY = "sitegen:scroll:" + location.pathname;
  var status = { patches: 0, reloads: 0, lastEvent: null };
  window.__sitegen = status; // read by tests and the benchmark

  // The version of the page the DOM was built from; patches compare against it.
  var baseline = null;

  function outputPath(pathname) {
    var p = decodeURIComponent(pathname);
    if (base && p.indexOf(base) === 0) p = p.slice(base.length);
    p = p.replace(/^\/+/, "");
    if (p === "" || p.charAt(p.length - 1) === "/") p += "index.html";
    return p;
  }

  function parse(text) {
    return new DOMParser().parseFromString(text, "text/html");
  }

  function fetchPage() {
    return fetch(location.href, { cache: "no-store" }).then(function (r) {
      return r.text();
    });
  }

  function reloadKeepingPlace() {
    try {
      sessionStorage.setItem(SCROLL_KEY, String(window.scrollY));
    } catch (e) {}
    status.reloads += 1;
    location.reload();
  }

  function restorePlace() {
    var saved = null;
    try {
      saved = sessionStorage.getItem(SCROLL_KEY);
      sessionStorage.removeItem(SCROLL_KEY);
    } catch (e) {}
    if (saved !== null) window.scrollTo(0, parseFloat(saved) || 0);
  }

  // What a patch may change: the page's main content (the theme's header, navigation
  // and scripts stay as they are).
  function container(doc) {
    return doc.querySelector("main") || doc.querySelector("article") || doc.body;
  }

  function sameAttributes(a, b) {
    if (a.attributes.length !== b.attributes.length) return false;
    for (var i = 0; i < a.attributes.length; i++) {
      var attr = a.attributes[i];
      if (b.getAttribute(attr.name) !== attr.value) return false;
    }
    return true;
  }

  // Bring `live` (in the document, maybe typeset) from `before` to `after` (both parsed
  // from the server's HTML), replacing the smallest elements that differ. Elements the
  // patch inserts are collected in `fresh` for MathJax.
  function patch(live, before, after, fresh) {
    if (before.isEqualNode(after)) return;
    var structured =
      live.nodeType === 1 &&
      before.nodeName === after.nodeName &&
      sameAttributes(before, after) &&
      before.childNodes.length === after.childNodes.length &&
      live.childNodes.length === before.childNodes.length &&
      !/\bmath\b/.test(before.className || "");
    if (structured) {
      for (var i = 0; i < after.childNodes.length; i++) {
        patch(live.childNodes[i], before.childNodes[i], after.childNodes[i], fresh);
      }
      return;
    }
    var node = document.importNode(after, true);
    if (window.MathJax && MathJax.typesetClear && live.nodeType === 1) {
      try {
        MathJax.typesetClear([live]);
      } catch (e) {}
    }
    live.parentNode.replaceChild(node, live);
    if (node.nodeType === 1) fresh.push(node);
    else if (node.parentNode) fresh.push(node.parentNode);
  }

  // Whether new elements hold TeX that takes part in page-wide numbering.
  function numbered(nodes) {
    return nodes.some(function (node) {
      return /\\(label|tag|eqref|ref)\b|\\begin\{(equation|align|gather|multline|flalign|alignat|eqnarray)\}/.test(
        node.textContent || ""
      );
    });
  }

  function scriptsOf(doc) {
    return Array.prototype.map
      .call(doc.querySelectorAll("head script[src], head link[rel=stylesheet]"), function (el) {
        return el.getAttribute("src") || el.getAttribute("href");
      })
      .join("\n");
  }

  function update() {
    return fetchPage().then(function (text) {
      var next = parse(text);
      var liveRoot = container(document);
      var before = baseline && container(baseline);
      var after = container(next);
      // A different page skeleton (another layout, MathJax now needed, an error page
      // replaced by the real one with other scripts): patching cannot do it well.
      if (!baseline || !before || !after || scriptsOf(baseline) !== scriptsOf(next)) {
        reloadKeepingPlace();
        return;
      }
      var fresh = [];
      if (before.nodeName !== after.nodeName || liveRoot.nodeName !== before.nodeName) {
        reloadKeepingPlace();
        return;
      }
      patch(liveRoot, before, after, fresh);
      if (next.title !== document.title) document.title = next.title;
      baseline = next;
      status.patches += 1;
      var mj = window.MathJax;
      if (fresh.length && mj && mj.typesetPromise) {
        var typeset = fresh;
        if (numbered(fresh) && mj.texReset) {
          // Equation numbers and labels are page-wide: typesetting only the new parts
          // would number them after the old ones and define labels twice. Start over
          // with the whole article, from the server's TeX.
          var whole = document.importNode(after, true);
          if (mj.typesetClear) mj.typesetClear();
          mj.texReset();
          container(document).replaceWith(whole);
          typeset = [whole];
          status.fullTypesets = (status.fullTypesets || 0) + 1;
        }
        mj.typesetPromise(typeset).catch(function (err) {
          console.warn("sitegen: MathJax failed on the patched elements", err);
        });
      }
      document.dispatchEvent(new CustomEvent("sitegen:patched", { detail: fresh.length }));
    });
  }

  function refreshStyles() {
    var links = document.querySelectorAll("link[rel=stylesheet]");
    for (var i = 0; i < links.length; i++) {
      var href = links[i].getAttribute("href").replace(/([?&])sgv=\d+/, "$1").replace(/[?&]$/, "");
      links[i].setAttribute("href", href + (href.indexOf("?") < 0 ? "?" : "&") + "sgv=" + Date.now());
    }
  }

  // Events are handled one at a time, in order.
  var queue = Promise.resolve();

  function onChange(event) {
    var data = JSON.parse(event.data);
    status.lastEvent = data;
    var here = outputPath(location.pathname);
    var changed = (data.changed || []).concat(data.removed || []);
    if (data.reload) return reloadKeepingPlace();
    if (changed.indexOf(here) >= 0) {
      queue = queue.then(update).catch(function (err) {
        console.warn("sitegen: patch failed, reloading", err);
        reloadKeepingPlace();
      });
      return;
    }
    var assets = changed.filter(function (p) {
      return !/\.(html|xml|json|txt)$/.test(p);
    });
    if (assets.length && assets.every(function (p) { return /\.css$/.test(p); })) {
      refreshStyles();
    } else if (assets.length) {
      reloadKeepingPlace();
    }
  }

  function connect() {
    var source = new EventSource(endpoint);
    source.addEventListener("change", onChange);
    var lost = false;
    source.addEventListener("hello", function () {
      status.connected = true;
      if (lost) {
        // back after a lost connection (say, the server was restarted): changes may
        // have been missed, so bring the page up to date
        lost = false;
        queue = queue.then(update).catch(reloadKeepingPlace);
      }
    });
    source.onerror = function () {
      status.connected = false; // EventSource reconnects by itself
      lost = true;
    };
  }

  restorePlace();
  fetchPage()
    .then(function (text) {
      baseline = parse(text);
    })
    .catch(function () {});
  connect();
})();
