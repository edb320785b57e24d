// The hash route: `#/trends?metric=asaSec&interval=1h`. Its query keeps the view's state
// (enterprise, refresh, tv, page options), so every view can be linked to and reloaded.

export const PAGES = [
  { name: "wallboard", title: "Wallboard" },
  { name: "trends", title: "Trends" },
  { name: "operators", title: "Operators" },
  { name: "deals", title: "Master deals" },
  { name: "voicebot", title: "Voice bot" },
  { name: "integrations", title: "Integrations" },
  { name: "operations", title: "Operations" },
];
// Carried from page to page by the navigation; the rest belong to one page.
const SHARED = ["enterprise", "refresh", "tv"];
export const DEFAULT_REFRESH_SEC = 5;

export function parseHash(hash = window.location.hash) {
  const body = hash.replace(/^#\/?/, "");
  const [path, query = ""] = body.split("?");
  const page = PAGES.some((p) => p.name === path) ? path : "wallboard";
  return { page, params: new URLSearchParams(query) };
}

export function refreshSec(params) {
  const value = Number(params.get("refresh"));
  return Number.isFinite(value) && value >= 1 ? value : DEFAULT_REFRESH_SEC;
}

export function hashFor(page, params, changes = {}, { keepAll = false } = {}) {
  const next = new URLSearchParams();
  for (const [key, value] of params) {
    if (keepAll || SHARED.includes(key)) next.set(key, value);
  }
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") next.delete(key);
    else next.set(key, String(value));
  }
  const query = next.toString();
  return `#/${page}${query ? `?${query}` : ""}`;
}

// Changes this page's options in place, keeping its other ones.
export function updateHash(changes) {
  const { page, params } = parseHash();
  window.location.hash = hashFor(page, params, changes, { keepAll: true });
}
