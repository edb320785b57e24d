// The voice bot today: daily stats, latency percentiles per component, costs, handoffs to
// operators, tools and A/B tests with their verdict (GET /api/voicebot/...).
import { html } from "../lib/html.js";
import { get, getAll } from "../lib/api.js";
import { usePoll } from "../lib/poll.js";
import { Chart } from "../components/chart.js";
import { Fig, Stat } from "../components/figure.js";
import { Page, Section } from "../components/page.js";
import { Table } from "../components/table.js";

const COMPONENTS = ["stt", "llm", "tts", "turn"];
const COMPONENT_LABELS = { stt: "Speech to text", llm: "LLM", tts: "Text to speech", turn: "Bot turn (LLM + TTS)" };
const PERCENTILES = ["p50", "p90", "p95", "p99"];

function componentsOf(latency) {
  const found = latency?.components ?? {};
  return [...COMPONENTS.filter((c) => c in found), ...Object.keys(found).filter((c) => !COMPONENTS.includes(c))];
}

function Latency({ latency }) {
  const names = componentsOf(latency);
  const rows = names.map((name) => ({ component: name, ...latency.components[name] }));
  return html`<div class="split">
    <${Table}
      name="latency"
      rows=${rows}
      rowKey=${(r) => r.component}
      empty="No latency measured yet."
      columns=${[
        { field: "component", label: "Component", render: (r) => COMPONENT_LABELS[r.component] ?? r.component },
        ...PERCENTILES.map((p) => ({ field: p, label: p, kind: "ms" })),
        { field: "count", label: "Samples" },
      ]}
    />
    <${Chart}
      name="latency"
      time=${false}
      xLabel="Percentile"
      yLabel="Latency (ms)"
      x=${PERCENTILES.map((_, i) => i)}
      categories=${PERCENTILES}
      series=${rows.map((r) => ({ label: COMPONENT_LABELS[r.component] ?? r.component, values: PERCENTILES.map((p) => r[p] ?? null) }))}
      height=${260}
    />
  </div>`;
}

function verdict(test) {
  if (test.winner === "A" || test.winner === "B") {
    const variant = test.winner === "A" ? test.variantA : test.variantB;
    return html`<span class="badge good" data-figure="winner" data-value=${JSON.stringify(test.winner)} data-format="text">${variant} wins</span>`;
  }
  const text = test.qualityPValue === null || test.qualityPValue === undefined ? "Collecting calls" : "No significant difference yet";
  return html`<span class="badge" data-figure="winner" data-value="null" data-format="text">${text}</span>`;
}

function pair(field) {
  return (test) => html`<span class="pair"><span title="A"><${Fig} name=${`${field}A`} value=${test[`${field}A`]} kind=${KINDS[field]} /></span><span class="muted"> / </span><span title="B"><${Fig} name=${`${field}B`} value=${test[`${field}B`]} kind=${KINDS[field]} /></span></span>`;
}
const KINDS = { calls: "count", quality: "score", transferPct: "pct", costPerCall: "usd" };

const TEST_COLUMNS = [
  { field: "testName", label: "Test", render: (t) => html`<div class="who"><strong>${t.testName}</strong><span class="muted small">A ${t.variantA} · B ${t.variantB}${t.enterpriseId ? ` · ${t.enterpriseId}` : ""}</span></div>` },
  { field: "status", label: "Status", kind: "text" },
  { field: "calls", label: "Calls A / B", kind: "count", render: pair("calls") },
  { field: "quality", label: "Quality A / B", kind: "score", render: pair("quality") },
  { field: "transferPct", label: "Transfers A / B", kind: "pct", render: pair("transferPct") },
  { field: "costPerCall", label: "Cost per call A / B", kind: "usd", render: pair("costPerCall") },
  { field: "qualityPValue", label: "p (quality)", kind: "pvalue" },
  { field: "transferPValue", label: "p (transfers)", kind: "pvalue" },
  { field: "winner", label: "Verdict", render: verdict },
];

const DAY_COLUMNS = [
  { field: "date", label: "Day", kind: "text" },
  { field: "totalCalls", label: "Calls" },
  { field: "resolvedByBot", label: "Resolved by bot" },
  { field: "transferred", label: "Transferred" },
  { field: "containmentPct", label: "Containment", kind: "pct" },
  { field: "avgDurationSec", label: "Avg duration", kind: "sec" },
  { field: "avgQualityScore", label: "Avg quality", kind: "score" },
  { field: "totalCostUsd", label: "Cost", kind: "usd" },
];

export function Voicebot({ params, refresh }) {
  const enterprise = params.get("enterprise");
  const poll = usePoll(async () => {
    const scope = { enterprise_id: enterprise };
    return getAll({
      "daily stats": get("/api/voicebot/daily-stats", scope),
      latency: get("/api/voicebot/latency", scope),
      costs: get("/api/voicebot/costs", scope),
      "A/B tests": get("/api/voicebot/ab-tests", scope),
      handoffs: get("/api/voicebot/handoffs", scope),
      tools: get("/api/voicebot/tools", scope),
    });
  }, enterprise, refresh);
  const found = poll.data ?? {};
  const data = { ...found, daily: found["daily stats"], abTests: found["A/B tests"] };
  const costs = data.costs ?? {};
  const handoffs = data.handoffs ?? {};
  const byComponent = Object.entries(costs.byComponent ?? {}).map(([component, usd]) => ({ component, usd }));

  return html`<${Page} name="voicebot" title="Voice bot" poll=${poll}>
    <${Section} title="Calls per day" note="UTC days">
      <${Table} name="daily-stats" rows=${data.daily?.days} rowKey=${(d) => d.date} columns=${DAY_COLUMNS} empty="No voice-bot call today yet." />
    <//>
    <div class="split">
      <${Section} title="Handoffs to operators">
        <div class="stats-row" data-table="handoffs">
          <${Stat} label="Handed off" name="handoffs" value=${handoffs.handoffs} />
          <${Stat} label="Answered" name="answered" value=${handoffs.answered} />
          <${Stat} label="Abandoned" name="abandoned" value=${handoffs.abandoned} />
          <${Stat} label="ASA after handoff" name="asaSec" value=${handoffs.asaSec} kind="sec" />
        </div>
      <//>
      <${Section} title="Costs">
        <div class="stats-row" data-table="costs">
          <${Stat} label="Total" name="totalUsd" value=${costs.totalUsd} kind="usd" />
          <${Stat} label="Per call" name="perCallUsd" value=${costs.perCallUsd} kind="usd" />
        </div>
        <${Table}
          name="costs-by-component"
          rows=${byComponent}
          rowKey=${(r) => r.component}
          empty="No cost recorded yet."
          columns=${[
            { field: "component", label: "Component", kind: "text" },
            { field: "usd", label: "Cost", kind: "usd", render: (r) => html`<${Fig} name=${`byComponent.${r.component}`} value=${r.usd} kind="usd" />` },
          ]}
        />
      <//>
    </div>
    <${Section} title="Latency" note="nearest-rank percentiles, ms">
      <${Latency} latency=${data.latency} />
    <//>
    <${Section} title="A/B tests" note="winner once p < 0.05 on quality">
      <${Table}
        name="ab-tests"
        rows=${data.abTests?.tests}
        rowKey=${(t) => (t.enterpriseId ? `${t.enterpriseId}:${t.testName}` : t.testName)}
        columns=${TEST_COLUMNS}
        empty="No A/B test."
      />
    <//>
    <${Section} title="Tools">
      <${Table}
        name="tools"
        rows=${data.tools?.tools}
        rowKey=${(t) => t.toolName}
        empty="No tool call yet."
        columns=${[
          { field: "toolName", label: "Tool", kind: "text" },
          { field: "calls", label: "Calls" },
          { field: "successPct", label: "Success", kind: "pct" },
          { field: "p95Ms", label: "p95", kind: "ms" },
        ]}
      />
    <//>
  <//>`;
}
