/**
 * The dashboard: server-rendered HTML pages with inline SVG charts (src/report/svg-chart.ts)
 * and one small script that refreshes the live parts by polling HTML fragments.
 * - `/`: runs list with filters (status, host, text), project energy and CO2e per day,
 *   accuracy versus energy for runs that report a metric;
 * - `/runs/{key}`: one run (a job on many nodes or a single tracker run): live power per
 *   device, energy and CO2e so far, nodes reporting; energy by component, node and phase;
 *   carbon intensity over time; its trackers and devices.
 * Sign-in: a read token posted to /login becomes an HttpOnly, SameSite=Strict cookie; the
 * cookie is accepted for GET requests only. In open mode (loopback, no token) no sign-in.
 */
import {
  CHART_COLORS,
  escapeXml,
  niceTicks,
  renderBarChart,
  renderLineChart,
  type Bar,
  type LineSeries,
} from "../report/svg-chart.js";
import {
  formatCo2e,
  formatDuration,
  formatEnergy,
  formatPower,
  joulesToWh,
  trimNumber,
} from "../units/energy.js";
import type { MemberState, StoredJob } from "../store/server-store.js";
import { DASHBOARD_CSS, DASHBOARD_JS } from "./dashboard-assets.js";
import { HTML_CSP, HttpError, escapeHtml, send } from "./http.js";
import { parseListFilter } from "./api-routes.js";
import {
  getJobDetail,
  listJobs,
  projectDailyTotals,
  type JobDetail,
  type JobSummary,
} from "./runs-view.js";
import type { Route, RouteRequest } from "./routing.js";
import { scopeAllows, verifyToken } from "./tokens.js";

/** Name of the dashboard's session cookie (holds a read token; HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = "wattprint_session";
/** The live view shows this much of the past, ms. */
export const LIVE_WINDOW_MS = 10 * 60_000;
/** Days in the project totals chart. */
export const DAILY_CHART_DAYS = 14;

const PALETTE = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#F0E442",
  "#000000",
];
const HTML_HEADERS = { "content-security-policy": HTML_CSP };

function page(title: string, project: string | null, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · wattprint</title>
<link rel="stylesheet" href="/assets/dashboard.css">
<script src="/assets/dashboard.js" defer></script>
</head>
<body>
<header class="top"><h1><a href="/">wattprint</a></h1>${project === null ? "" : `<span class="project" data-project="${escapeHtml(project)}">project ${escapeHtml(project)}</span><form method="post" action="/logout"><button type="submit">Sign out</button></form>`}</header>
<main>
${body}
</main>
</body>
</html>
`;
}

function statusBadge(status: string): string {
  return `<span class="status status-${escapeHtml(status)}" data-status="${escapeHtml(status)}">${escapeHtml(status)}</span>`;
}

function nodesText(nodes: { expected: number | null; reporting: number }): string {
  return nodes.expected === null
    ? String(nodes.reporting)
    : `${nodes.reporting} of ${nodes.expected}`;
}

function runLink(key: string): string {
  return `/runs/${encodeURIComponent(key)}`;
}

function runsTable(runs: readonly JobSummary[]): string {
  if (runs.length === 0) return `<p class="empty">No runs match.</p>`;
  const rows = runs.map(
    (run) => `<tr data-run="${escapeHtml(run.key)}">
<td><a href="${runLink(run.key)}">${escapeHtml(run.key.length > 40 ? `${run.key.slice(0, 39)}…` : run.key)}</a>${run.kind === "agent" ? " (agent)" : ""}</td>
<td>${statusBadge(run.status)}</td>
<td>${escapeHtml(run.startedAt.replace("T", " ").slice(0, 19))}</td>
<td class="num">${escapeHtml(formatDuration(run.durationS))}</td>
<td class="num">${escapeHtml(nodesText(run.nodes))}</td>
<td class="num" data-energy-j="${run.energyJ ?? ""}">${escapeHtml(formatEnergy(run.energyJ))}</td>
<td class="num">${escapeHtml(formatCo2e(run.co2eG))}</td>
<td class="num">${run.powerW === null ? "" : escapeHtml(formatPower(run.powerW))}</td>
<td class="command">${escapeHtml(
      run.commands
        .map((c) => c.join(" "))
        .join("; ")
        .slice(0, 200),
    )}</td>
</tr>`,
  );
  return `<table class="runs"><thead><tr><th>Run</th><th>Status</th><th>Started (UTC)</th><th class="num">Duration</th><th class="num">Nodes</th><th class="num">Energy</th><th class="num">CO2e</th><th class="num">Power now</th><th>Command</th></tr></thead>
<tbody>${rows.join("")}</tbody></table>`;
}

function filterForm(query: URLSearchParams): string {
  const status = query.get("status") ?? "";
  const option = (value: string, label: string) =>
    `<option value="${value}"${value === status ? " selected" : ""}>${label}</option>`;
  return `<form class="filters" method="get" action="/">
<label>Status <select name="status">${option("", "any")}${option("running", "running")}${option("completed", "completed")}${option("failed", "failed")}${option("interrupted", "interrupted")}</select></label>
<label>Host <input name="host" value="${escapeHtml(query.get("host") ?? "")}" maxlength="255"></label>
<label>Text <input name="q" value="${escapeHtml(query.get("q") ?? "")}" maxlength="200" placeholder="job, command or host"></label>
<button type="submit">Filter</button>
</form>`;
}

/**
 * Accuracy (or any metric) against energy, one point per run, as an `<svg>` (the shared
 * chart module draws lines and bars, not scatter plots).
 */
export function renderScatter(
  points: readonly { key: string; energyJ: number; value: number }[],
  metric: string,
): string {
  const width = 760;
  const height = 320;
  const margin = { top: 34, right: 16, bottom: 48, left: 64 };
  const xs = points.map((p) => joulesToWh(p.energyJ));
  const ys = points.map((p) => p.value);
  const xTicks = niceTicks(0, Math.max(...xs, 0));
  const yTicks = niceTicks(Math.min(...ys), Math.max(...ys));
  const xMax = xTicks[xTicks.length - 1] ?? 1;
  const yMin = yTicks[0] ?? 0;
  const yMax = yTicks[yTicks.length - 1] ?? 1;
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const sx = (x: number) => margin.left + (x / (xMax || 1)) * plotW;
  const sy = (y: number) => margin.top + plotH - ((y - yMin) / (yMax - yMin || 1)) * plotH;
  const parts: string[] = [
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  parts.push(
    `<text x="${margin.left}" y="20" font-size="14" font-weight="600">${escapeXml(`${metric} versus energy`)}</text>`,
  );
  for (const tick of yTicks) {
    const y = sy(tick).toFixed(1);
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
    );
    parts.push(
      `<text x="${margin.left - 6}" y="${Number(y) + 4}" text-anchor="end" font-size="11">${escapeXml(trimNumber(tick))}</text>`,
    );
  }
  for (const tick of xTicks) {
    const x = sx(tick).toFixed(1);
    parts.push(
      `<text x="${x}" y="${margin.top + plotH + 17}" text-anchor="middle" font-size="11">${escapeXml(trimNumber(tick))}</text>`,
    );
  }
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 8}" text-anchor="middle" font-size="12">energy (Wh)</text>`,
    `<text x="14" y="${margin.top + plotH / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${margin.top + plotH / 2})">${escapeXml(metric)}</text>`,
  );
  for (const point of points) {
    parts.push(
      `<circle class="point" data-run="${escapeXml(point.key)}" data-energy-j="${point.energyJ}" data-value="${point.value}" cx="${sx(joulesToWh(point.energyJ)).toFixed(1)}" cy="${sy(point.value).toFixed(1)}" r="5" fill="${CHART_COLORS.cpu}" fill-opacity="0.8"><title>${escapeXml(`${point.key}: ${formatEnergy(point.energyJ)}, ${metric} ${trimNumber(point.value)}`)}</title></circle>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="accuracy-energy" role="img" aria-label="${escapeXml(`${metric} versus energy`)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">${parts.join("")}</svg>`;
}

/** The metric most runs report (val_accuracy, accuracy, … first), or null. */
function chooseMetric(runs: readonly JobSummary[], wanted: string | null): string | null {
  const counts = new Map<string, number>();
  for (const run of runs)
    for (const name of Object.keys(run.metrics)) counts.set(name, (counts.get(name) ?? 0) + 1);
  if (wanted !== null && counts.has(wanted)) return wanted;
  const preferred = ["val_accuracy", "accuracy", "test_accuracy", "f1"].find((name) =>
    counts.has(name),
  );
  if (preferred !== undefined) return preferred;
  return (
    [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null
  );
}

async function runsPage(request: RouteRequest): Promise<void> {
  const project = request.principal?.project ?? "";
  const query = request.url.searchParams;
  const filter = parseListFilter(query);
  const nowMs = request.app.now();
  const runs = await listJobs(
    request.app.store,
    project,
    { ...filter, limit: filter.limit ?? 100 },
    nowMs,
  );
  const daily = await projectDailyTotals(request.app.store, project, DAILY_CHART_DAYS, nowMs);
  const dailyBars: Bar[] = daily.map((day) => ({
    label: day.day,
    segments: [
      { id: "energy", label: "energy", value: joulesToWh(day.energyJ), color: CHART_COLORS.cpu },
    ],
  }));
  const co2Bars: Bar[] = daily.map((day) => ({
    label: day.day,
    segments: [{ id: "co2e", label: "CO2e", value: day.co2eG, color: CHART_COLORS.operational }],
  }));
  const all =
    filter.status === undefined
      ? runs
      : await listJobs(request.app.store, project, { limit: 500 }, nowMs);
  const metric = chooseMetric(all, query.get("metric"));
  let scatter = `<p class="empty">No run reported a metric yet (phase metrics such as val_accuracy, or POST /api/v1/runs/{key}/metrics).</p>`;
  if (metric !== null) {
    const points = all.flatMap((run) => {
      const value = run.metrics[metric];
      return value === undefined || run.energyJ === null
        ? []
        : [{ key: run.key, energyJ: run.energyJ, value }];
    });
    if (points.length > 0) scatter = renderScatter(points, metric);
  }
  const refresh = `/fragments/runs?${query.toString()}`;
  const body = `<section><h2>Runs</h2>
${filterForm(query)}
<div id="runs" data-refresh="${escapeHtml(refresh)}">${runsTable(runs)}</div>
</section>
<section><h2>Project totals per day (UTC, last ${DAILY_CHART_DAYS} days)</h2>
<div class="charts">${renderBarChart({ id: "daily-energy", title: "Energy per day", unit: "Wh", bars: dailyBars, formatValue: (wh) => formatEnergy(wh * 3600) })}
${renderBarChart({ id: "daily-co2e", title: "CO2e per day", unit: "g CO2e", bars: co2Bars, formatValue: (g) => formatCo2e(g) })}</div>
</section>
<section><h2>Accuracy versus energy</h2>${scatter}</section>`;
  send(request.res, 200, page("Runs", project, body), "text/html; charset=utf-8", HTML_HEADERS);
}

async function runsFragment(request: RouteRequest): Promise<void> {
  const project = request.principal?.project ?? "";
  const filter = parseListFilter(request.url.searchParams);
  const runs = await listJobs(
    request.app.store,
    project,
    { ...filter, limit: filter.limit ?? 100 },
    request.app.now(),
  );
  send(request.res, 200, runsTable(runs), "text/html; charset=utf-8", HTML_HEADERS);
}

function figure(label: string, value: string, attribute = ""): string {
  return `<div class="figure"${attribute}><div class="value">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div></div>`;
}

/** Power per device over the live window, one line per (host, device), from the tracker that reported it most. */
async function livePowerChart(
  request: RouteRequest,
  stored: StoredJob,
  startedMs: number,
  nowMs: number,
): Promise<string> {
  const project = request.principal?.project ?? "";
  const windowStartMs = nowMs - LIVE_WINDOW_MS;
  const live = stored.members.filter((m) => m.endedMs === null || m.endedMs >= windowStartMs);
  const samples = await request.app.store.deviceSamples(project, live, {
    maxPoints: 300,
    afterMs: windowStartMs,
    step: (member: MemberState) => {
      const spanMs = Math.max(1, (member.endedMs ?? nowMs) - member.startedMs);
      const inWindow = (member.lastSeq + 1) * Math.min(1, LIVE_WINDOW_MS / spanMs);
      return Math.max(1, Math.ceil(inWindow / 300));
    },
  });
  const hostOf = new Map(stored.members.map((m) => [m.runId, m.host]));
  const labels = new Map(
    stored.devices.map((d) => [`${d.host}\u0000${d.device}`, `${d.host} ${d.label}`]),
  );
  const byDevice = new Map<string, Map<string, { x: number; y: number | null }[]>>();
  for (const point of samples) {
    const key = `${hostOf.get(point.runId) ?? "?"}\u0000${point.device}`;
    const runs = byDevice.get(key) ?? new Map<string, { x: number; y: number | null }[]>();
    const line = runs.get(point.runId) ?? [];
    line.push({ x: (point.tMs - startedMs) / 60_000, y: point.powerW });
    runs.set(point.runId, line);
    byDevice.set(key, runs);
  }
  const series: LineSeries[] = [];
  let index = 0;
  for (const [key, runs] of byDevice) {
    const best = [...runs.values()].sort((a, b) => b.length - a.length)[0] ?? [];
    if (!best.some((p) => p.y !== null)) continue;
    series.push({
      id: key.replace("\u0000", "/"),
      label: labels.get(key) ?? key.replace("\u0000", " "),
      color: PALETTE[index % PALETTE.length] as string,
      points: best,
    });
    index += 1;
  }
  if (series.length === 0)
    return `<p class="empty">No power reading in the last ${LIVE_WINDOW_MS / 60_000} minutes.</p>`;
  return renderLineChart({
    id: "live-power",
    title: "Power per device (last 10 minutes)",
    xLabel: "minutes since the run started",
    yLabel: "W",
    series: series.slice(0, 16),
  });
}

async function liveFragment(
  request: RouteRequest,
  detail: JobDetail,
  stored: StoredJob,
): Promise<string> {
  const nowMs = request.app.now();
  const chart = await livePowerChart(request, stored, Date.parse(detail.startedAt), nowMs);
  return `<h2>Live</h2>
<div class="figures">
${figure("energy so far", formatEnergy(detail.energyJ), ` data-figure="energy" data-energy-j="${detail.energyJ ?? ""}"`)}
${figure("CO2e so far", formatCo2e(detail.co2eG), ` data-figure="co2e" data-co2e-g="${detail.co2eG ?? ""}"`)}
${figure("power now", detail.powerW === null ? "—" : formatPower(detail.powerW), ` data-figure="power"`)}
${figure("nodes reporting", nodesText(detail.nodes), ` data-figure="nodes"`)}
${figure("last report", detail.lastSeenAt.replace("T", " ").slice(0, 19), ` data-figure="last-seen"`)}
</div>
<div class="charts">${chart}</div>`;
}

function componentBars(detail: JobDetail): Bar[] {
  const segments = (energy: JobDetail["energyByComponentJ"]) =>
    (["cpu", "gpu", "ram"] as const).flatMap((c) =>
      energy[c] === null
        ? []
        : [
            {
              id: c,
              label: c.toUpperCase(),
              value: joulesToWh(energy[c] ?? 0),
              color: CHART_COLORS[c],
            },
          ],
    );
  return [
    { label: "attributed", segments: segments(detail.energyByComponentJ) },
    { label: "machine", segments: segments(detail.machineEnergyByComponentJ) },
  ].filter((bar) => bar.segments.length > 0);
}

async function intensityChart(
  request: RouteRequest,
  stored: StoredJob,
  startedMs: number,
): Promise<string> {
  const project = request.principal?.project ?? "";
  const samples = await request.app.store.runSamples(project, stored.members, { maxPoints: 300 });
  const zoneOf = new Map(stored.members.map((m) => [m.runId, m.zone]));
  const byZone = new Map<string, { runId: string; points: { x: number; y: number | null }[] }>();
  for (const sample of samples) {
    const zone = zoneOf.get(sample.runId) ?? "?";
    const line = byZone.get(zone) ?? { runId: sample.runId, points: [] };
    if (line.runId !== sample.runId) continue;
    line.points.push({ x: (sample.tMs - startedMs) / 60_000, y: sample.intensityGPerKWh });
    byZone.set(zone, line);
  }
  const series: LineSeries[] = [...byZone.entries()]
    .filter(([, line]) => line.points.some((p) => p.y !== null))
    .map(([zone, line], i) => ({
      id: zone,
      label: zone,
      color: i === 0 ? CHART_COLORS.intensity : (PALETTE[i % PALETTE.length] as string),
      points: line.points,
    }));
  if (series.length === 0) return `<p class="empty">No intensity reported.</p>`;
  return renderLineChart({
    id: "intensity",
    title: "Carbon intensity over time",
    xLabel: "minutes since the run started",
    yLabel: "gCO2e/kWh",
    series,
  });
}

async function runPage(request: RouteRequest): Promise<void> {
  const project = request.principal?.project ?? "";
  const key = request.params[0] ?? "";
  const found = await getJobDetail(request.app.store, project, key, request.app.now());
  if (found === null) {
    send(
      request.res,
      404,
      page(
        "Not found",
        project,
        `<section><h2>No such run</h2><p>No run "${escapeHtml(key)}" in project ${escapeHtml(project)}. <a href="/">All runs</a></p></section>`,
      ),
      "text/html; charset=utf-8",
      HTML_HEADERS,
    );
    return;
  }
  const { detail, stored } = found;
  const startedMs = Date.parse(detail.startedAt);
  const nodeBars: Bar[] = detail.byNode.map((node) => ({
    label: node.host,
    segments: [
      {
        id: "attributed",
        label: "attributed",
        value: joulesToWh(node.energyJ ?? 0),
        color: CHART_COLORS.cpu,
      },
    ],
  }));
  const phaseBars: Bar[] = detail.phases.map((phase) => ({
    label: phase.name,
    segments: [
      {
        id: "attributed",
        label: "attributed",
        value: joulesToWh(phase.energyJ),
        color: CHART_COLORS.gpu,
      },
    ],
  }));
  const wh = (value: number) => formatEnergy(value * 3600);
  const components = componentBars(detail);
  const trackers = detail.trackersDetail
    .map(
      (t) =>
        `<tr data-tracker="${escapeHtml(t.runId)}"><td>${escapeHtml(t.runId.slice(0, 8))}</td><td>${escapeHtml(t.host)}</td><td>${statusBadge(t.status)}</td><td>${escapeHtml(t.startedAt.replace("T", " ").slice(0, 19))}</td><td>${escapeHtml(t.region)} (${escapeHtml(t.zone)}), PUE ${t.pue}</td><td class="num">${escapeHtml(formatEnergy(t.energyJ))}</td><td class="num">${escapeHtml(formatEnergy(t.machineEnergyJ))}</td><td class="num">${t.samples}</td><td class="command">${escapeHtml(t.command.join(" ").slice(0, 200))}</td></tr>`,
    )
    .join("");
  const devices = detail.devices
    .map(
      (d) =>
        `<tr data-device="${escapeHtml(d.device)}"><td>${escapeHtml(d.host)}</td><td>${escapeHtml(d.label)}</td><td>${escapeHtml(d.component)}</td><td>${escapeHtml(d.source)}</td><td class="num">${escapeHtml(formatEnergy(d.machineEnergyJ))}</td><td class="num">${escapeHtml(formatEnergy(d.attributedEnergyJ))}</td><td class="num">${d.reportedBy}</td></tr>`,
    )
    .join("");
  const metrics = Object.entries(detail.metrics)
    .map(([name, value]) => `${escapeHtml(name)} ${escapeHtml(trimNumber(value))}`)
    .join(", ");
  const body = `<section><h2>Run ${escapeHtml(detail.key)} ${statusBadge(detail.status)}</h2>
<div class="figures">
${figure("energy (attributed, devices counted once)", formatEnergy(detail.energyJ))}
${figure("machine energy", formatEnergy(detail.machineEnergyJ))}
${figure("CO2e", formatCo2e(detail.co2eG))}
${figure("duration (first start to last end)", formatDuration(detail.durationS))}
${figure("nodes", nodesText(detail.nodes))}
${figure("regions", detail.regions.join(", "))}
${metrics === "" ? "" : figure("metrics", metrics)}
</div>
${detail.warnings.length === 0 ? "" : `<ul class="warnings">${detail.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join("")}</ul>`}
</section>
<section id="live" data-live="/fragments/runs/${encodeURIComponent(detail.key)}/live" data-live-state="${detail.status === "running" ? "running" : "finished"}" data-updates="0">${await liveFragment(request, detail, stored)}</section>
<section><h2>Energy by component</h2>${components.length === 0 ? `<p class="empty">No device reported energy.</p>` : renderBarChart({ id: "by-component", title: "Energy by component", unit: "Wh", bars: components, formatValue: wh })}</section>
<section><h2>Energy by node</h2>${nodeBars.length === 0 ? `<p class="empty">No node.</p>` : renderBarChart({ id: "by-node", title: "Energy by node", unit: "Wh", bars: nodeBars, formatValue: wh })}</section>
<section><h2>Energy by phase</h2>${phaseBars.length === 0 ? `<p class="empty">No phase was marked.</p>` : renderBarChart({ id: "by-phase", title: "Energy by phase", unit: "Wh", bars: phaseBars, formatValue: wh })}</section>
<section><h2>Carbon intensity over time</h2>${await intensityChart(request, stored, startedMs)}</section>
<section><h2>Trackers</h2><table><thead><tr><th>Run</th><th>Host</th><th>Status</th><th>Started (UTC)</th><th>Grid</th><th class="num">Energy</th><th class="num">Machine</th><th class="num">Samples</th><th>Command</th></tr></thead><tbody>${trackers}</tbody></table></section>
<section><h2>Devices (each counted once)</h2><table><thead><tr><th>Host</th><th>Device</th><th>Component</th><th>Source</th><th class="num">Machine</th><th class="num">Attributed</th><th class="num">Reported by</th></tr></thead><tbody>${devices}</tbody></table></section>`;
  send(request.res, 200, page(`Run ${detail.key}`, project, body), "text/html; charset=utf-8", {
    ...HTML_HEADERS,
    "x-wattprint-status": detail.status,
  });
}

async function liveRoute(request: RouteRequest): Promise<void> {
  const project = request.principal?.project ?? "";
  const found = await getJobDetail(
    request.app.store,
    project,
    request.params[0] ?? "",
    request.app.now(),
  );
  if (found === null) throw new HttpError(404, "not_found", "no such run in this project");
  send(
    request.res,
    200,
    await liveFragment(request, found.detail, found.stored),
    "text/html; charset=utf-8",
    {
      ...HTML_HEADERS,
      "x-wattprint-status": found.detail.status,
    },
  );
}

function loginPage(error: string | null): string {
  return page(
    "Sign in",
    null,
    `<section class="login"><h2>Sign in</h2>
<p>Paste a read (or admin) token of your project. It is kept in an HttpOnly cookie of this site only.</p>
${error === null ? "" : `<p class="error">${escapeHtml(error)}</p>`}
<form method="post" action="/login"><input type="password" name="token" autocomplete="off" required placeholder="wpt_…"><button type="submit">Sign in</button></form>
</section>`,
  );
}

async function readFormToken(request: RouteRequest): Promise<string | null> {
  const type = (request.req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new HttpError(
      415,
      "unsupported_media_type",
      "send the login form (application/x-www-form-urlencoded)",
    );
  }
  let text = "";
  for await (const chunk of request.req as AsyncIterable<Buffer>) {
    text += chunk.toString("utf8");
    if (text.length > 4096)
      throw new HttpError(413, "payload_too_large", "the form is too large", {
        headers: { connection: "close" },
      });
  }
  return new URLSearchParams(text).get("token");
}

async function login(request: RouteRequest): Promise<void> {
  const token = (await readFormToken(request))?.trim() ?? "";
  const result = token === "" ? null : await verifyToken(request.app.store, token);
  if (result === null || !result.ok || !scopeAllows(result.principal.scope, "read")) {
    send(
      request.res,
      401,
      loginPage("That token is not a valid read token."),
      "text/html; charset=utf-8",
      HTML_HEADERS,
    );
    return;
  }
  request.res.writeHead(303, {
    location: "/",
    "set-cookie": `${SESSION_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200`,
    "cache-control": "no-store",
  });
  request.res.end();
}

/** The dashboard's routes. */
export const DASHBOARD_ROUTES: readonly Route[] = [
  {
    method: "GET",
    path: /^\/assets\/dashboard\.js$/,
    name: "asset",
    access: "public",
    handler: async ({ res }) =>
      send(res, 200, DASHBOARD_JS, "text/javascript; charset=utf-8", {
        "cache-control": "max-age=300",
      }),
  },
  {
    method: "GET",
    path: /^\/assets\/dashboard\.css$/,
    name: "asset",
    access: "public",
    handler: async ({ res }) =>
      send(res, 200, DASHBOARD_CSS, "text/css; charset=utf-8", { "cache-control": "max-age=300" }),
  },
  {
    method: "GET",
    path: /^\/favicon\.ico$/,
    name: "asset",
    access: "public",
    handler: async ({ res }) => {
      res.writeHead(204, { "cache-control": "max-age=86400" });
      res.end();
    },
  },
  {
    method: "GET",
    path: /^\/login$/,
    name: "page.login",
    access: "public",
    handler: async ({ res }) =>
      send(res, 200, loginPage(null), "text/html; charset=utf-8", HTML_HEADERS),
  },
  { method: "POST", path: /^\/login$/, name: "page.login", access: "public", handler: login },
  {
    method: "POST",
    path: /^\/logout$/,
    name: "page.logout",
    access: "public",
    handler: async ({ res }) => {
      res.writeHead(303, {
        location: "/login",
        "set-cookie": `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`,
      });
      res.end();
    },
  },
  {
    method: "GET",
    path: /^\/$/,
    name: "page.runs",
    access: "read",
    cookie: true,
    loginRedirect: true,
    handler: runsPage,
  },
  {
    method: "GET",
    path: /^\/fragments\/runs$/,
    name: "fragment.runs",
    access: "read",
    cookie: true,
    handler: runsFragment,
  },
  {
    method: "GET",
    path: /^\/runs\/([^/]+)$/,
    name: "page.run",
    access: "read",
    cookie: true,
    loginRedirect: true,
    handler: runPage,
  },
  {
    method: "GET",
    path: /^\/fragments\/runs\/([^/]+)\/live$/,
    name: "fragment.live",
    access: "read",
    cookie: true,
    handler: liveRoute,
  },
];
