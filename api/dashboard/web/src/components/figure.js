// One figure from the API: `data-figure` names its field, `data-value` holds the API's value
// as JSON (null when absent), `data-format` how the visible text was formatted.
import { html } from "../lib/html.js";
import { format } from "../lib/format.js";

export function Fig({ name, value, kind = "count", className = "" }) {
  const known = value === undefined ? null : value;
  return html`<span
    class=${`fig ${className}`.trim()}
    data-figure=${name}
    data-value=${JSON.stringify(known)}
    data-format=${kind}
    >${format(known, kind)}</span
  >`;
}

// A labelled figure as a tile: the label above, the figure large below.
export function Stat({ label, name, value, kind = "count", tone = "", hint = "" }) {
  return html`<div class=${`stat ${tone}`.trim()} title=${hint || undefined}>
    <div class="stat-label">${label}</div>
    <div class="stat-value"><${Fig} name=${name} value=${value} kind=${kind} /></div>
  </div>`;
}
