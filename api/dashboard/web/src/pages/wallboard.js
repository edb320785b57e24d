// Live per queue: waiting now, the oldest wait, today's offered, answered, abandoned, ASA and
// SLA %, and the agents in each state (GET /api/wallboard).
import { html } from "../lib/html.js";
import { get } from "../lib/api.js";
import { format } from "../lib/format.js";
import { usePoll } from "../lib/poll.js";
import { Fig, Stat } from "../components/figure.js";
import { Empty, Page } from "../components/page.js";

// Known agent states in the order a supervisor reads them; others follow as the API names them.
const AGENT_STATES = [
  ["ready", "Ready"],
  ["busy", "Busy"],
  ["talking", "Talking"],
  ["wrapup", "Wrap-up"],
  ["notReady", "Not ready"],
  ["loggedOut", "Logged out"],
];
const LONG_WAIT_SEC = 60;
const VERY_LONG_WAIT_SEC = 180;
const SLA_TARGET_PCT = 80;

function waitTone(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds >= VERY_LONG_WAIT_SEC) return "bad";
  if (seconds >= LONG_WAIT_SEC) return "warn";
  return "";
}

function slaTone(pct) {
  if (pct === null || pct === undefined) return "";
  return pct < SLA_TARGET_PCT ? "warn" : "good";
}

function agentStates(agents) {
  const known = AGENT_STATES.filter(([key]) => key in agents);
  const others = Object.keys(agents)
    .filter((key) => !AGENT_STATES.some(([k]) => k === key))
    .map((key) => [key, key]);
  return [...known, ...others];
}

function Agents({ agents }) {
  if (!agents || typeof agents !== "object") {
    return html`<div class="agents"><span class="muted">Agents: <${Fig} name="agents" value=${null} /></span></div>`;
  }
  return html`<div class="agents">
    ${agentStates(agents).map(
      ([key, label]) => html`<div class=${`agent-state state-${key}`}>
        <${Fig} name=${`agents.${key}`} value=${agents[key]} />
        <span>${label}</span>
      </div>`,
    )}
  </div>`;
}

function Queue({ queue }) {
  const waitingTone = queue.waiting > 0 ? waitTone(queue.oldestWaitSec) || "live" : "";
  return html`<section class="queue card" data-row=${queue.queueId}>
    <div class="queue-head">
      <div>
        <h2>${queue.name ?? queue.queueId}</h2>
        <div class="muted small">
          ${queue.name ? html`<span class="mono">${queue.queueId}</span>` : null}
          ${queue.enterpriseId ? html`<span class="tag">${queue.enterpriseId}</span>` : null}
        </div>
      </div>
    </div>
    <div class="queue-now">
      <${Stat} label="Waiting now" name="waiting" value=${queue.waiting} tone=${`hero ${waitingTone}`} />
      <${Stat} label="Oldest wait" name="oldestWaitSec" value=${queue.oldestWaitSec} kind="sec" tone=${`hero ${waitTone(queue.oldestWaitSec)}`} />
    </div>
    <div class="queue-today">
      <${Stat} label="Offered" name="offered" value=${queue.offered} />
      <${Stat} label="Answered" name="answered" value=${queue.answered} />
      <${Stat} label="Abandoned" name="abandoned" value=${queue.abandoned} tone=${queue.abandoned > 0 ? "warn-text" : ""} />
      <${Stat} label="ASA" name="asaSec" value=${queue.asaSec} kind="sec" hint="Average speed of answer" />
      <${Stat} label="SLA today" name="slaPct" value=${queue.slaPct} kind="pct" tone=${slaTone(queue.slaPct)} />
    </div>
    <${Agents} agents=${queue.agents} />
  </section>`;
}

export function Wallboard({ params, refresh }) {
  const enterprise = params.get("enterprise");
  const poll = usePoll(() => get("/api/wallboard", { enterprise_id: enterprise }), enterprise, refresh);
  const queues = poll.data?.queues ?? [];
  const asOf = poll.data?.asOf;
  return html`<${Page}
    name="wallboard"
    title="Wallboard"
    poll=${poll}
    tools=${asOf ? html`<span class="muted">as of ${format(asOf, "time")}</span>` : null}
  >
    ${poll.data && queues.length === 0 ? html`<${Empty}>No queue has had a call today yet.<//>` : null}
    <div class="queues">${queues.map((queue) => html`<${Queue} key=${queue.queueId} queue=${queue} />`)}</div>
  <//>`;
}
