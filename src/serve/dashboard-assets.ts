/**
 * The dashboard's only script and style sheet, served from /assets/ (the pages' CSP allows
 * nothing else). The script polls: the live part of a run page every 2 s while the run
 * runs (the server says when it stopped, `x-wattprint-status`), and the runs table every
 * 5 s. No framework, no third-party code.
 */

/** /assets/dashboard.js */
export const DASHBOARD_JS = `"use strict";
(function () {
  function poll(element, attribute, defaultMs) {
    var url = element.getAttribute(attribute);
    var everyMs = Number(element.getAttribute("data-interval-ms")) || defaultMs;
    var failures = 0;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { accept: "text/html" } })
        .then(function (response) {
          var status = response.headers.get("x-wattprint-status");
          return response.text().then(function (text) {
            if (response.ok) {
              element.innerHTML = text;
              var updates = Number(element.getAttribute("data-updates") || "0") + 1;
              element.setAttribute("data-updates", String(updates));
              element.setAttribute("data-updated-at", new Date().toISOString());
              failures = 0;
            } else {
              failures += 1;
            }
            if (status !== null && status !== "running") {
              element.setAttribute("data-live-state", "finished");
              return;
            }
            setTimeout(tick, everyMs * Math.min(8, 1 + failures));
          });
        })
        .catch(function () {
          failures += 1;
          setTimeout(tick, everyMs * Math.min(8, 1 + failures));
        });
    }
    setTimeout(tick, everyMs);
  }
  var live = document.querySelector("[data-live]");
  if (live && live.getAttribute("data-live-state") === "running") poll(live, "data-live", 2000);
  var list = document.querySelector("[data-refresh]");
  if (list) poll(list, "data-refresh", 5000);
})();
`;

/** /assets/dashboard.css */
export const DASHBOARD_CSS = `:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f8fa; }
header.top { display: flex; gap: 16px; align-items: baseline; padding: 10px 20px; background: #fff; border-bottom: 1px solid var(--line); }
header.top h1 { font-size: 18px; margin: 0; }
header.top a { color: var(--ink); text-decoration: none; }
header.top .project { color: var(--muted); }
header.top form { margin-left: auto; }
main { padding: 16px 20px; max-width: 1200px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; }
section h2 { font-size: 15px; margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eaeef2; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.command { white-space: normal; max-width: 360px; overflow-wrap: anywhere; color: var(--muted); }
a { color: var(--accent); }
.status { padding: 1px 6px; border-radius: 10px; font-size: 12px; background: #eaeef2; }
.status-running { background: #ddf4ff; color: #0a3069; }
.status-completed { background: #dafbe1; color: #116329; }
.status-failed { background: #ffebe9; color: #82071e; }
.status-interrupted { background: #fff8c5; color: #633c01; }
.figures { display: flex; flex-wrap: wrap; gap: 24px; }
.figure .value { font-size: 22px; font-weight: 600; }
.figure .label { color: var(--muted); font-size: 12px; }
.warnings li { color: #9a6700; }
form.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin-bottom: 8px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
input, select, button { font: inherit; padding: 4px 6px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
svg.chart { max-width: 100%; height: auto; }
.empty { color: var(--muted); font-style: italic; }
.login { max-width: 420px; margin: 60px auto; }
.login input { width: 100%; margin: 8px 0; }
.error { color: #82071e; }
`;
