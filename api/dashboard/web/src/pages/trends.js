// Any metric of /api/timeseries at any interval, over today or the last days, as a chart.
import { html } from "../lib/html.js";
import { get, iso, utcDayStart } from "../lib/api.js";
import { usePoll } from "../lib/poll.js";
import { updateHash } from "../lib/route.js";
import { Chart } from "../components/chart.js";
import { Section, Page } from "../components/page.js";
import { Table } from "../components/table.js";

// The metric enum of GET /api/timeseries (api/routes/kpis.py), with what its axis shows.
export const METRICS = [
  { name: "offered", label: "Offered", axis: "Offered (sessions)", kind: "count" },
  { name: "answered", label: "Answered", axis: "Answered (sessions)", kind: "count" },
  { name: "abandoned", label: "Abandoned", axis: "Abandoned (sessions)", kind: "count" },
  { name: "shortAbandoned", label: "Short abandoned", axis: "Short abandoned (sessions)", kind: "count" },
  { name: "flowOut", label: "Flow-out", axis: "Flow-out (sessions)", kind: "count" },
  { name: "blocked", label: "Blocked", axis: "Blocked (sessions)", kind: "count" },
  { name: "asaSec", label: "ASA", axis: "ASA (seconds)", kind: "sec" },
  { name: "avgWaitSec", label: "Average wait", axis: "Average wait (seconds)", kind: "sec" },
  { name: "slaPct", label: "SLA", axis: "SLA (%)", kind: "pct" },
  { name: "abandonRatePct", label: "Abandon rate", axis: "Abandon rate (%)", kind: "pct" },
  { name: "ahtSec", label: "AHT", axis: "AHT (seconds)", kind: "sec" },
  { name: "responseSec", label: "Digital response (p95)", axis: "Response p95 (seconds)", kind: "sec" },
  { name: "queueDepth", label: "Queue depth", axis: "Waiting at bucket start (sessions)", kind: "count" },
];
export const INTERVALS = ["15m", "30m", "1h", "1d"];
const RANGES = [
  { days: 1, label: "Today" },
  { days: 2, label: "Yesterday and today" },
  { days: 7, label: "Last 7 days" },
  { days: 30, label: "Last 30 days" },
];
const DAY_MS = 86400000;

function choice(value, allowed, fallback) {
  return allowed.includes(value) ? value : fallback;
}

export function Trends({ params, refresh }) {
  const metric = METRICS.find((m) => m.name === params.get("metric")) ?? METRICS[0];
  const interval = choice(params.get("interval"), INTERVALS, "1h");
  const days = Number(choice(params.get("days"), RANGES.map((r) => String(r.days)), "1"));
  const enterprise = params.get("enterprise");
  const key = `${metric.name}|${interval}|${days}|${enterprise}`;
  const poll = usePoll(() => {
    const today = utcDayStart();
    const from = new Date(today.getTime() - (days - 1) * DAY_MS);
    const to = new Date(today.getTime() + DAY_MS);
    return get("/api/timeseries", {
      metric: metric.name,
      interval,
      from: iso(from),
      to: iso(to),
      enterprise_id: enterprise,
    });
  }, key, refresh);
  const points = Array.isArray(poll.data) ? poll.data : [];

  const tools = html`<div class="controls">
    <label>Metric
      <select data-control="metric" value=${metric.name} onChange=${(e) => updateHash({ metric: e.target.value })}>
        ${METRICS.map((m) => html`<option value=${m.name}>${m.label}</option>`)}
      </select>
    </label>
    <label>Interval
      <select data-control="interval" value=${interval} onChange=${(e) => updateHash({ interval: e.target.value })}>
        ${INTERVALS.map((i) => html`<option value=${i}>${i}</option>`)}
      </select>
    </label>
    <label>Range
      <select data-control="days" value=${String(days)} onChange=${(e) => updateHash({ days: e.target.value })}>
        ${RANGES.map((r) => html`<option value=${String(r.days)}>${r.label}</option>`)}
      </select>
    </label>
  </div>`;

  return html`<${Page} name="trends" title="Trends" poll=${poll} tools=${tools}>
    <${Section} title=${`${metric.label} per ${interval}`} note="UTC">
      <${Chart}
        name=${metric.name}
        xLabel="Time (UTC)"
        yLabel=${metric.axis}
        x=${points.map((p) => Date.parse(p.ts) / 1000)}
        series=${[{ label: metric.label, values: points.map((p) => p.value) }]}
      />
    <//>
    <details class="card points">
      <summary>${points.length} values</summary>
      <${Table}
        name="timeseries"
        rows=${points}
        rowKey=${(p) => p.ts}
        empty="No buckets in this range."
        columns=${[
          { field: "ts", label: "Bucket start", kind: "time" },
          { field: "value", label: metric.label, kind: metric.kind },
        ]}
      />
    </details>
  <//>`;
}
