// Stream health for ops (GET /api/lag, admin tokens only): per partition lag, lag in seconds and
// Burrow status, the group's status, the deal publication's and the CRM outbox's backlogs.
import { html } from "../lib/html.js";
import { get } from "../lib/api.js";
import { usePoll } from "../lib/poll.js";
import { Fig, Stat } from "../components/figure.js";
import { Empty, Page, Section } from "../components/page.js";
import { Table } from "../components/table.js";

const BAD = ["STALL", "STOP", "REWIND"];
const ALARM = ["STALL", "STOP"];
const MEANING = {
  OK: "Every partition keeps up.",
  WARN: "Lag grew across the whole window.",
  STALL: "The worker commits no progress while messages wait.",
  STOP: "The worker has stopped committing while messages wait.",
  REWIND: "A committed offset went backwards.",
};

function tone(status) {
  if (BAD.includes(status)) return "bad";
  if (status === "WARN") return "warn";
  return status === "OK" ? "good" : "";
}

// One cell per partition, a line per topic: the whole group fits on a screen, and a stalled
// partition stands out in red where it sits.
function PartitionCell({ partition }) {
  const status = partition.status ?? null;
  const classes = ["partition", BAD.includes(status) ? "bad" : status === "WARN" ? "warn" : "", partition.end === 0 ? "idle" : ""];
  return html`<div class=${classes.filter(Boolean).join(" ")} data-row=${`${partition.topic}:${partition.partition}`} data-status=${status ?? undefined}>
    <div class="partition-head">
      <span class="muted">p${partition.partition}</span>
      <span class=${`badge ${tone(status)}`}><${Fig} name="status" value=${status} kind="text" /></span>
    </div>
    <div class="partition-lag" title="Lag: messages, and the age of the oldest waiting one">
      <${Fig} name="lag" value=${partition.lag} /> <span class="muted">msgs</span>
      <span class="partition-sec"><${Fig} name="lagSec" value=${partition.lagSec} kind="sec" /></span>
    </div>
    <div class="partition-offsets muted" title="Committed offset → end offset">
      <${Fig} name="committed" value=${partition.committed} /> → <${Fig} name="end" value=${partition.end} />
    </div>
  </div>`;
}

function Partitions({ partitions }) {
  const topics = [];
  for (const partition of partitions ?? []) {
    const last = topics[topics.length - 1];
    if (last && last.topic === partition.topic) last.partitions.push(partition);
    else topics.push({ topic: partition.topic, partitions: [partition] });
  }
  if (topics.length === 0) return html`<${Empty}>No partition sampled yet.<//>`;
  return html`<div class="topics" data-table="partitions">
    ${topics.map(
      ({ topic, partitions: cells }) => html`<div class="topic-line" key=${topic}>
        <div class="topic-name mono">${topic}</div>
        <div class="partition-cells">${cells.map((p) => html`<${PartitionCell} key=${p.partition} partition=${p} />`)}</div>
      </div>`,
    )}
  </div>`;
}

function Backlogs({ lag }) {
  const outbox = lag.outbox;
  const publication = lag.publication;
  return html`<div class="split">
    <${Section} title="CRM delivery outbox">
      <div class="stats-row" data-table="outbox">
        <${Stat} label="Pending deliveries" name="outbox.pending" value=${outbox?.pending} />
        <${Stat} label="Oldest pending" name="outbox.oldestPendingAgeSec" value=${outbox?.oldestPendingAgeSec} kind="sec" tone=${outbox?.oldestPendingAgeSec > 60 ? "warn" : ""} />
      </div>
      ${outbox?.enterprises?.length
        ? html`<${Table}
            name="outbox"
            rows=${outbox.enterprises}
            rowKey=${(r) => r.enterpriseId}
            columns=${[
              { field: "enterpriseId", label: "Enterprise", kind: "text" },
              { field: "pending", label: "Pending" },
              { field: "oldestPendingAgeSec", label: "Oldest", kind: "sec" },
            ]}
          />`
        : null}
    <//>
    <${Section} title="Master deal publication">
      <div class="stats-row" data-table="publication">
        <${Stat} label="Events not yet published" name="publication.pendingEvents" value=${publication?.pendingEvents} />
        <${Stat} label="Oldest waiting" name="publication.pendingSec" value=${publication?.pendingSec} kind="sec" />
      </div>
      <${Table}
        name="publication"
        rows=${publication?.topics}
        rowKey=${(t) => t.topic}
        empty="No masterdeal topic yet."
        columns=${[
          { field: "topic", label: "Topic", kind: "text" },
          { field: "published", label: "Published" },
          { field: "lastPublishedAgeSec", label: "Last grew", kind: "sec" },
        ]}
      />
    <//>
  </div>`;
}

function Freshness({ ages }) {
  const rows = Object.entries(ages ?? {}).map(([topic, age]) => ({ topic, age }));
  return html`<${Table}
    name="freshness"
    rows=${rows}
    rowKey=${(r) => r.topic}
    empty="No input topic has data yet."
    columns=${[
      { field: "topic", label: "Input topic", kind: "text" },
      { field: "age", label: "Newest stored event", kind: "sec", render: (r) => html`<${Fig} name=${`newestProcessedEventAgeSec.${r.topic}`} value=${r.age} kind="sec" /> ago` },
    ]}
  />`;
}

export function Operations({ refresh, session }) {
  const admin = session?.admin !== false;
  const poll = usePoll(() => (admin ? get("/api/lag") : Promise.resolve(null)), admin, refresh);
  if (!admin) {
    return html`<${Page} name="operations" title="Operations" state="error" error="Operations data spans every tenant: it needs an admin token (switchboard token create --admin).">
      <${Empty}>Sign in with an admin token to see consumer lag and stalls.<//>
    <//>`;
  }
  const lag = poll.data;
  const status = lag?.status ?? null;
  const alarm = ALARM.includes(status);
  return html`<${Page} name="operations" title="Operations" poll=${poll}>
    ${lag
      ? html`<div class=${`banner ${alarm ? "bad" : status === "OK" ? "good" : status ? "warn" : ""}`} data-banner>
          <div class="banner-status">
            <span class="muted">Consumer group <strong class="mono">${lag.group}</strong></span>
            <span class=${`group-status ${status && status !== "OK" ? "bad" : "good"}`} data-figure="status" data-value=${JSON.stringify(status)} data-format="text">${status ?? "—"}</span>
          </div>
          <div class="banner-text">${MEANING[status] ?? ""}${lag.stale ? " The newest sample failed: these figures are older." : ""}</div>
        </div>
        <div class="stats-row">
          <${Stat} label="Total lag" name="totalLag" value=${lag.totalLag} />
          <${Stat} label="Worker up" name="workerUp" value=${lag.workerUp} kind="bool" tone=${lag.workerUp === false ? "bad" : ""} />
          <${Stat} label="Window" name="windowSec" value=${lag.windowSec} kind="sec" />
          <${Stat} label="Sampled" name="sampleAgeSec" value=${lag.sampleAgeSec} kind="sec" hint="Seconds since the sampler read the broker" />
        </div>
        <${Section} title="Partitions" note="Burrow's status over the window">
          <${Partitions} partitions=${lag.partitions} />
        <//>
        <${Backlogs} lag=${lag} />
        <${Section} title="Freshness">
          <${Freshness} ages=${lag.newestProcessedEventAgeSec} />
        <//>`
      : null}
  <//>`;
}
