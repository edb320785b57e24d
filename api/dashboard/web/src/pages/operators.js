// Today's figures per agent (GET /api/operators) and per queue (GET /api/queues).
import { useState } from "preact/hooks";
import { html } from "../lib/html.js";
import { get, getAll } from "../lib/api.js";
import { usePoll } from "../lib/poll.js";
import { Page, Section } from "../components/page.js";
import { Table } from "../components/table.js";

function name(row, id) {
  return html`<div class="who"><strong>${row.name ?? row[id]}</strong>${row.name ? html`<span class="mono muted small">${row[id]}</span>` : null}</div>`;
}

const OPERATOR_COLUMNS = [
  { field: "agentId", label: "Agent", render: (row) => name(row, "agentId") },
  { field: "answered", label: "Answered" },
  { field: "ahtSec", label: "AHT", kind: "sec" },
  { field: "talkSec", label: "Talk", kind: "sec" },
  { field: "wrapUpSec", label: "Wrap-up", kind: "sec" },
  { field: "ringNoAnswer", label: "Ring, no answer" },
  { field: "loginSec", label: "Logged in", kind: "sec" },
  { field: "readySec", label: "Ready", kind: "sec" },
  { field: "notReadySec", label: "Not ready", kind: "sec" },
  { field: "responseSec", label: "Digital response p95", kind: "sec" },
];

const QUEUE_COLUMNS = [
  { field: "queueId", label: "Queue", render: (row) => name(row, "queueId") },
  { field: "offered", label: "Offered" },
  { field: "answered", label: "Answered" },
  { field: "abandoned", label: "Abandoned" },
  { field: "asaSec", label: "ASA", kind: "sec" },
  { field: "avgWaitSec", label: "Avg wait", kind: "sec" },
  { field: "slaPct", label: "SLA", kind: "pct" },
  { field: "abandonRatePct", label: "Abandon rate", kind: "pct" },
  { field: "ahtSec", label: "AHT", kind: "sec" },
];

export function Operators({ params, refresh }) {
  const enterprise = params.get("enterprise");
  const poll = usePoll(async () => {
    return getAll({
      operators: get("/api/operators", { enterprise_id: enterprise }).then((r) => r?.operators ?? []),
      queues: get("/api/queues", { enterprise_id: enterprise }).then((r) => r?.queues ?? []),
    });
  }, enterprise, refresh);
  const [search, setSearch] = useState("");
  const operators = poll.data?.operators;
  const needle = search.trim().toLowerCase();
  const shown = needle
    ? operators?.filter((r) => `${r.agentId} ${r.name ?? ""}`.toLowerCase().includes(needle))
    : operators;
  const finder = html`<input
    type="text"
    class="search"
    data-control="agent-search"
    placeholder="Find an agent"
    value=${search}
    onInput=${(e) => setSearch(e.target.value)}
  />`;
  return html`<${Page} name="operators" title="Operators" poll=${poll}>
    <${Section} title="Queues today" note="UTC day">
      <${Table} name="queues" rows=${poll.data?.queues} rowKey=${(r) => r.queueId} columns=${QUEUE_COLUMNS} empty="No queue has had a call today yet." />
    <//>
    <${Section} title=${`Agents today${operators ? ` (${operators.length})` : ""}`} note=${finder}>
      <${Table} name="operators" rows=${shown} rowKey=${(r) => r.agentId} columns=${OPERATOR_COLUMNS} empty=${needle ? "No agent matches." : "No agent has worked today yet."} />
    <//>
  <//>`;
}
