// Every page's root: `data-page`, `data-state` (loading, ready, error) and the time of its last
// successful refresh; the error of the latest refresh shows in `[data-error]`.
import { html } from "../lib/html.js";
import { format } from "../lib/format.js";

export function Page({ name, title, poll, state, error, tools = null, children }) {
  const shown = state ?? poll?.state ?? "ready";
  const failure = error ?? poll?.error;
  const refreshedAt = poll?.refreshedAt ?? undefined;
  return html`<main class="page" data-page=${name} data-state=${shown} data-refreshed-at=${refreshedAt}>
    <div class="page-head">
      <h1>${title}</h1>
      <div class="page-tools">
        ${tools}
        <span class=${`freshness is-${shown}`} title="Last successful refresh">
          ${shown === "loading" && !refreshedAt ? "Loading…" : refreshedAt ? `Updated ${format(refreshedAt, "time").slice(11)}` : ""}
        </span>
      </div>
    </div>
    ${failure ? html`<div class="error" data-error role="alert">${messageOf(failure)}</div>` : null}
    ${children}
  </main>`;
}

export function messageOf(error) {
  if (typeof error === "string") return error;
  if (error?.status === 404) return `Not found: ${error.message}`;
  if (error?.status === 403) return `Not allowed: ${error.message}`;
  return error?.message ?? String(error);
}

export function Empty({ children }) {
  return html`<div class="empty">${children}</div>`;
}

export function Section({ title, note = null, children, className = "" }) {
  return html`<section class=${`card ${className}`.trim()}>
    <div class="card-head"><h2>${title}</h2>${note ? html`<span class="note">${note}</span>` : null}</div>
    ${children}
  </section>`;
}
