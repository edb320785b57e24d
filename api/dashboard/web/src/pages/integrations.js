// One enterprise's CRM integrations: each type's settings (secrets come masked from the API),
// a connection test, and the delivery log (GET/POST /api/integrations/{enterprise_id}/...).
import { useState } from "preact/hooks";
import { html } from "../lib/html.js";
import { get, getAll, post } from "../lib/api.js";
import { usePoll } from "../lib/poll.js";
import { updateHash } from "../lib/route.js";
import { Fig } from "../components/figure.js";
import { Empty, Page, Section, messageOf } from "../components/page.js";
import { Table } from "../components/table.js";

const TYPE_LABELS = { retailcrm: "RetailCRM", mediapush: "Media push", webhook: "Webhook", telegram: "Telegram" };
const LOG_LIMIT = 50;

function kindOf(value) {
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return "count";
  return "text";
}

function ConnectionTest({ enterprise, type }) {
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState(false);
  async function run() {
    setBusy(true);
    try {
      const answer = await post(`/api/integrations/${encodeURIComponent(enterprise)}/${encodeURIComponent(type)}/test`);
      setResult({ answer });
    } catch (error) {
      setResult({ error });
    } finally {
      setBusy(false);
    }
  }
  return html`<div class="connection-test">
    <button type="button" class="button" data-action="test" disabled=${busy} onClick=${run}>${busy ? "Testing…" : "Test connection"}</button>
    ${result?.answer
      ? html`<div class=${`test-result ${result.answer.ok ? "good" : "bad"}`} data-test-result=${type}>
          <span class="badge ${result.answer.ok ? "good" : "bad"}"><${Fig} name="ok" value=${result.answer.ok} kind="bool" /></span>
          <span>latency <${Fig} name="latencyMs" value=${result.answer.latencyMs} kind="ms" /></span>
          ${result.answer.error ? html`<span class="test-error"><${Fig} name="error" value=${result.answer.error} kind="text" /></span>` : null}
        </div>`
      : null}
    ${result?.error ? html`<div class="error" data-error role="alert">${messageOf(result.error)}</div>` : null}
  </div>`;
}

function Integration({ enterprise, type, settings }) {
  const entries = Object.entries(settings ?? {}).filter(([key]) => key !== "type");
  return html`<${Section} title=${TYPE_LABELS[type] ?? type} className="integration" note=${html`<span class=${`badge ${settings?.enabled ? "good" : ""}`}>${settings?.enabled ? "enabled" : "disabled"}</span>`}>
    <dl class="settings" data-row=${type}>
      ${entries.map(
        ([key, value]) => html`<div class="setting">
          <dt>${key}</dt>
          <dd><${Fig} name=${key} value=${value} kind=${kindOf(value)} /></dd>
        </div>`,
      )}
    </dl>
    <${ConnectionTest} enterprise=${enterprise} type=${type} />
  <//>`;
}

const LOG_COLUMNS = [
  { field: "created_at", label: "When", kind: "time" },
  { field: "type", label: "Type", kind: "text" },
  { field: "event_type", label: "Event", kind: "text" },
  { field: "call_id", label: "Call", kind: "text" },
  { field: "attempt", label: "Attempt" },
  { field: "status", label: "Status", render: (r) => html`<span class=${`badge ${r.status === "success" ? "good" : r.status === "failed" ? "bad" : r.status === "retrying" ? "warn" : ""}`}><${Fig} name="status" value=${r.status} kind="text" /></span>` },
  { field: "http_status", label: "HTTP" },
  { field: "duration_ms", label: "Duration", kind: "ms" },
  { field: "error", label: "Error", kind: "text", render: (r) => html`<span class="clip" title=${r.error ?? ""}><${Fig} name="error" value=${r.error} kind="text" /></span>` },
];

export function Integrations({ params, refresh, session }) {
  const enterprise = params.get("enterprise") || session?.enterprises?.[0] || null;
  const poll = usePoll(async () => {
    if (!enterprise) return null;
    const path = `/api/integrations/${encodeURIComponent(enterprise)}`;
    return getAll({
      config: get(path),
      logs: get(`${path}/logs`, { limit: LOG_LIMIT }).then((r) => r?.logs ?? []),
    });
  }, enterprise, refresh);
  const integrations = Object.entries(poll.data?.config?.integrations ?? {});

  if (!enterprise) {
    return html`<${Page} name="integrations" title="Integrations" state="error" error="Pick an enterprise to see its integrations.">
      <${Empty}>Integrations belong to one enterprise: choose one above.<//>
    <//>`;
  }
  const choices = session?.enterprises ?? [];
  const tools = choices.length > 1 && !params.get("enterprise")
    ? html`<label>Enterprise
        <select data-control="integrations-enterprise" value=${enterprise} onChange=${(e) => updateHash({ enterprise: e.target.value })}>
          ${choices.map((e) => html`<option value=${e}>${e}</option>`)}
        </select>
      </label>`
    : null;

  return html`<${Page} name="integrations" title=${`Integrations of ${enterprise}`} poll=${poll} tools=${tools}>
    ${poll.data && integrations.length === 0 ? html`<${Empty}>No integration is configured for ${enterprise}.<//>` : null}
    <div class="integrations">
      ${integrations.map(([type, settings]) => html`<${Integration} key=${type} enterprise=${enterprise} type=${type} settings=${settings} />`)}
    </div>
    <${Section} title="Delivery log" note=${`newest ${LOG_LIMIT}`}>
      <${Table} name="logs" rows=${poll.data?.logs} rowKey=${(r) => String(r.id)} columns=${LOG_COLUMNS} empty="Nothing delivered yet." />
    <//>
  <//>`;
}
