//! The page's inlined CSS and script: no file, font or library is fetched.
//!
//! The script sorts tables by a clicked header, copies trace ids, and
//! records what a headless test needs to check: `data-ready` on `<body>`
//! once it has run, the flame graph's and the page's measured widths
//! (`data-flame-width`, `data-frames-width`, `data-page-width`), and any
//! uncaught error on `<html data-errors>` (from [`ERROR_TRAP`], which runs
//! first). The flame graph's own script (zoom, search) is inferno's.

/// The style sheet. inferno's SVG brings a `<style>` of its own whose rules
/// (`text`, `.hide`, `.parent`, `#title`, `#search`...) apply to the whole
/// page, so the charts set their own text style and the page avoids those
/// names.
pub const STYLE: &str = "\
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--accent:#0969da;--bad:#cf222e}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 2em 3em;color:var(--fg)}
header{padding:1.2em 0 .6em;border-bottom:1px solid var(--line)}
h1{font-size:1.5em;margin:0 0 .2em}
h2{font-size:1.2em;margin:1.8em 0 .4em}
h3{font-size:1em;margin:1.6em 0 .4em}
nav a{color:var(--accent);margin-right:1.2em;text-decoration:none}
nav a:hover{text-decoration:underline}
p,li{max-width:80em}
.hint,.muted{color:var(--muted)}
#verdict{font-size:1.1em;border-left:4px solid var(--bad);background:#fff5f5;padding:.7em 1em;margin:1em 0}
#suspect-list{list-style:none;padding:0;margin:0;display:grid;gap:.8em}
.suspect{border:1px solid var(--line);border-radius:6px;padding:.6em 1em}
.suspect .who{font-size:1.05em}
.rank{display:inline-block;min-width:1.6em;height:1.6em;line-height:1.6em;text-align:center;border-radius:50%;background:var(--fg);color:#fff;font-size:.85em;margin-right:.4em}
.badge{display:inline-block;border-radius:1em;padding:0 .6em;font-size:.8em;margin-left:.5em;background:var(--soft);border:1px solid var(--line)}
.badge.high{background:#ffebe9;border-color:#ff8182}
.badge.medium{background:#fff8c5;border-color:#d4a72c}
.evidence{margin:.4em 0;padding-left:1.2em}
code.tid{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--soft);padding:1px 4px;border-radius:3px;user-select:all;cursor:text}
button.copy{font:11px system-ui,sans-serif;margin-left:.3em;padding:0 .5em;border:1px solid var(--line);border-radius:3px;background:#fff;cursor:pointer;color:var(--muted)}
button.copy:hover{border-color:var(--accent);color:var(--accent)}
#flame{width:100%;border:1px solid var(--line);border-radius:4px;overflow:hidden}
#flamegraph{display:block;width:100%}
#flame #search{opacity:.7}
svg.chart{display:block;width:100%;max-width:1100px;height:auto}
#latency-boxes{max-width:1300px}
svg.chart text{font:12px system-ui,sans-serif;fill:var(--fg)}
svg.chart text.small{font-size:11px;fill:var(--muted)}
svg.chart .grid{stroke:#e6e6e6}
svg.chart .line{fill:none;stroke:#4c78a8;stroke-width:2}
svg.chart .line.dashed{stroke-dasharray:6 4;stroke:#f58518}
svg.chart .pt{fill:#4c78a8}
svg.chart .change{stroke:var(--bad);stroke-width:2;stroke-dasharray:4 3}
svg.chart .bar rect{fill:#4c78a8}
svg.chart .bar.suspected rect{fill:var(--bad)}
svg.chart .op:hover,svg.chart .bar:hover{opacity:.8}
.box rect{fill:#9ecae9;stroke:#3d6b99}
.box .p50{stroke:#08306b;stroke-width:3}
.box .whisker{stroke:#3d6b99;stroke-width:1.5}
.box .tail{stroke:#3d6b99;stroke-dasharray:3 3}
.box .p99{stroke:#3d6b99;stroke-width:2}
.box .max{fill:var(--bad)}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;margin:0 0 1em;font-size:13px}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);cursor:pointer;user-select:none;white-space:nowrap}
th:hover{background:#eaeef2}
th::after{content:'\\2195';color:#b0b8c0;margin-left:.3em;font-size:.85em}
th[aria-sort=ascending]::after{content:'\\25B2';color:var(--fg)}
th[aria-sort=descending]::after{content:'\\25BC';color:var(--fg)}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{white-space:nowrap}
tbody tr:nth-child(even){background:#fbfcfd}
ol.chain{list-style:none;padding:0;font:13px ui-monospace,Menlo,Consolas,monospace}
ol.chain li{margin:.15em 0}
ol.chain .culprit{color:var(--bad);font-weight:600}
";

/// Runs first (in `<head>`): records uncaught errors on `<html>`.
pub const ERROR_TRAP: &str = "window.addEventListener('error',function(e){\
var d=document.documentElement;\
d.setAttribute('data-errors',(d.getAttribute('data-errors')||'')+(e.message||'error')+'; ');});";

/// Runs last (end of `<body>`): sorting, copying, measuring.
pub const SCRIPT: &str = r#"(function () {
  "use strict";
  function key(cell) {
    var v = cell.getAttribute("data-v");
    if (v !== null) return parseFloat(v);
    var c = cell.querySelector("code");
    return (c ? c.textContent : cell.textContent).trim().toLowerCase();
  }
  function sortBy(table, th, col) {
    var numeric = th.classList.contains("n");
    var state = th.getAttribute("aria-sort");
    var asc = state ? state === "descending" : !numeric;
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) heads[i].removeAttribute("aria-sort");
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]);
      var d = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return asc ? d : -d;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.tabIndex = 0;
      th.title = "Sort by " + th.textContent;
      th.addEventListener("click", function () { sortBy(table, th, col); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, th, col); }
      });
    });
  });

  function copied(button, ok) {
    button.textContent = ok ? "copied" : "press Ctrl+C";
    setTimeout(function () { button.textContent = "copy"; }, 1500);
  }
  function selectAndCopy(button) {
    var code = button.previousElementSibling;
    var ok = false;
    if (code) {
      var range = document.createRange();
      range.selectNodeContents(code);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    }
    copied(button, ok);
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("button.copy") : null;
    if (!button) return;
    var text = button.getAttribute("data-copy");
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(
        function () { copied(button, true); },
        function () { selectAndCopy(button); });
    } else {
      selectAndCopy(button);
    }
  });

  function measure() {
    var b = document.body;
    b.setAttribute("data-page-width", String(document.documentElement.clientWidth));
    var svg = document.getElementById("flamegraph");
    if (svg) b.setAttribute("data-flame-width", String(Math.round(svg.getBoundingClientRect().width)));
    var frames = document.getElementById("frames");
    if (frames) b.setAttribute("data-frames-width", String(Math.round(frames.getBoundingClientRect().width)));
  }
  measure();
  window.addEventListener("resize", measure);
  // inferno lays its frames out for the page width in a timeout of its own.
  window.addEventListener("load", function () { setTimeout(measure, 50); });
  document.body.setAttribute("data-ready", "1");
})();
"#;
