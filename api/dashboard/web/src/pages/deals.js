// Master deals: the funnel by stage with SLA breaches (GET /api/deals/funnel), the newest
// deals (GET /masterdeal), and one deal's history (GET /masterdeal/{id}) when one is picked.
import { useEffect, useRef } from "preact/hooks";
import { html } from "../lib/html.js";
import { get, getAll } from "../lib/api.js";
import { usePoll } from "../lib/poll.js";
import { updateHash } from "../lib/route.js";
import { Fig, Stat } from "../components/figure.js";
import { Empty, Page, Section, messageOf } from "../components/page.js";
import { Table } from "../components/table.js";

export const STAGES = ["lead_created", "briefed", "offer_ready", "contracting", "closing", "closed"];
const LIST_LIMIT = 50;

function stageLabel(stage) {
  return stage.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

function Funnel({ funnel, stage }) {
  const rows = funnel?.stages ?? [];
  if (rows.length === 0) return html`<${Empty}>No deals yet.<//>`;
  const widest = Math.max(1, ...rows.map((r) => r.deals ?? 0));
  return html`<div class="funnel" data-table="funnel">
    ${rows.map(
      (row) => html`<button
        type="button"
        class=${`funnel-row ${stage === row.stage ? "selected" : ""}`}
        data-row=${row.stage}
        title="Show only this stage's deals"
        onClick=${() => updateHash({ stage: stage === row.stage ? null : row.stage, deal: null })}
      >
        <span class="funnel-stage">${stageLabel(row.stage)}</span>
        <span class="funnel-track">
          <span class="funnel-bar" style=${`width: ${(100 * (row.deals ?? 0)) / widest}%`}></span>
          <span class="funnel-bar breached" style=${`width: ${(100 * (row.breached ?? 0)) / widest}%`}></span>
        </span>
        <span class="funnel-count"><${Fig} name="deals" value=${row.deals} /></span>
        <span class="funnel-breached"><${Fig} name="breached" value=${row.breached} className=${row.breached > 0 ? "bad-text" : ""} /> breached</span>
      </button>`,
    )}
  </div>`;
}

function SlaBadge({ sla }) {
  const state = sla?.state ?? null;
  const tone = state === "breached" ? "bad" : state === "ok" ? "good" : "";
  return html`<span class=${`badge ${tone}`}><${Fig} name="sla.state" value=${state} kind="text" /></span>`;
}

const DEAL_COLUMNS = [
  { field: "deal_id", label: "Deal", render: (row) => html`<span class="nowrap mono"><${Fig} name="deal_id" value=${row.deal_id} kind="text" /></span>` },
  { field: "enterprise_id", label: "Enterprise", kind: "text" },
  { field: "stage", label: "Stage", kind: "text" },
  { field: "sla.state", label: "SLA", render: (row) => html`<${SlaBadge} sla=${row.sla} />` },
  { field: "last_event_at", label: "Last event", kind: "time" },
];

function Deal({ id, refresh }) {
  const poll = usePoll(() => get(`/masterdeal/${encodeURIComponent(id)}`), id, refresh);
  const deal = poll.data;
  const box = useRef(null);
  // A picked deal opens below the list: bring it into view once, not at every refresh.
  useEffect(() => {
    box.current?.scrollIntoView({ behavior: "smooth", block: "start" });
  }, [id]);
  return html`<${Section} title="Deal history" className="deal" note=${html`<button type="button" class="link" onClick=${() => updateHash({ deal: null })}>Close</button>`}>
    <div ref=${box} data-deal=${id} data-state=${poll.state} data-refreshed-at=${poll.refreshedAt ?? undefined}>
      ${poll.error ? html`<div class="error" data-error role="alert">${messageOf(poll.error)}</div>` : null}
      ${deal
        ? html`<div class="stats-row">
              <${Stat} label="Deal" name="deal_id" value=${deal.deal_id} kind="text" />
              <${Stat} label="Stage" name="stage" value=${deal.stage} kind="text" />
              <${Stat} label="SLA" name="sla.state" value=${deal.sla?.state} kind="text" tone=${deal.sla?.state === "breached" ? "bad" : ""} />
              <${Stat} label="Next deadline" name="sla.next_deadline" value=${deal.sla?.next_deadline} kind="time" />
              <${Stat} label="Created" name="created_at" value=${deal.created_at} kind="time" />
            </div>
            <h3>Stage history</h3>
            <${Table}
              name="history"
              rows=${deal.history}
              rowKey=${(r) => r.event_key}
              columns=${[
                { field: "occurred_at", label: "Occurred", kind: "time" },
                { field: "domain", label: "Domain", kind: "text" },
                { field: "event_type", label: "Event", kind: "text" },
                { field: "domain_status", label: "Domain status", kind: "text" },
                { field: "stage_after", label: "Stage after", kind: "text" },
                { field: "moved_stage", label: "Moved", kind: "bool" },
              ]}
            />
            <h3>SLA targets</h3>
            <${Table}
              name="sla-targets"
              rows=${deal.sla?.targets}
              rowKey=${(r) => r.target}
              rowClass=${(r) => (r.breached ? "bad" : "")}
              columns=${[
                { field: "target", label: "Target", kind: "text" },
                { field: "deadline", label: "Deadline", kind: "time" },
                { field: "met_at", label: "Met", kind: "time" },
                { field: "breached", label: "Breached", kind: "bool" },
              ]}
            />
            <h3>Domains</h3>
            <${Table}
              name="domains"
              rows=${deal.domains}
              rowKey=${(r) => r.domain}
              columns=${[
                { field: "domain", label: "Domain", kind: "text" },
                { field: "status", label: "Status", kind: "text" },
                { field: "reported_at", label: "Reported", kind: "time" },
              ]}
            />`
        : null}
    </div>
  <//>`;
}

export function Deals({ params, refresh }) {
  const enterprise = params.get("enterprise");
  const stage = STAGES.includes(params.get("stage")) ? params.get("stage") : null;
  const breached = params.get("breached") === "true" ? "true" : null;
  const deal = params.get("deal");
  const poll = usePoll(async () => {
    return getAll({
      funnel: get("/api/deals/funnel", { enterprise_id: enterprise }),
      deals: get("/masterdeal", { enterprise_id: enterprise, stage, breached, limit: LIST_LIMIT }).then((r) => r?.deals ?? []),
    });
  }, `${enterprise}|${stage}|${breached}`, refresh);
  const funnel = poll.data?.funnel;

  return html`<${Page} name="deals" title="Master deals" poll=${poll}>
    <div class="stats-row">
      <${Stat} label="Deals" name="total" value=${funnel?.total} />
      <${Stat} label="SLA breached" name="breached" value=${funnel?.breached} tone=${funnel?.breached > 0 ? "bad" : ""} />
    </div>
    <div class="split deals-split">
      <${Section} title="Funnel by stage" note="bars: deals · red: SLA breached">
        <${Funnel} funnel=${funnel} stage=${stage} />
      <//>
      <${Section}
        title=${stage ? `Newest deals in ${stageLabel(stage)}` : "Newest deals"}
        note=${html`<label class="inline"><input type="checkbox" data-control="breached" checked=${breached === "true"} onChange=${(e) => updateHash({ breached: e.target.checked ? "true" : null })} /> breached only</label>`}
      >
        <${Table}
          name="deals"
          rows=${poll.data?.deals}
          rowKey=${(r) => r.master_deal_id}
          columns=${DEAL_COLUMNS}
          selected=${deal}
          onRow=${(row) => updateHash({ deal: row.master_deal_id })}
          empty="No deal matches."
        />
      <//>
    </div>
    ${deal ? html`<${Deal} id=${deal} refresh=${refresh} />` : null}
  <//>`;
}
