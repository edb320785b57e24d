// How each kind of figure reads on screen. A figure's element carries its kind in
// `data-format`, so a test can format the API's value the same way.
// null (or a field the API left out) always reads "—".

export const MISSING = "—";

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

function two(n) {
  return String(n).padStart(2, "0");
}

// Seconds: "4.2 s" below 10 s, "42 s" below a minute, then "m:ss" and "h:mm:ss".
export function seconds(value) {
  if (value < 10) return `${value.toFixed(1)} s`;
  const whole = Math.round(value);
  if (whole < 60) return `${whole} s`;
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

// ISO 8601 UTC → "2026-12-06 23:50:33 UTC".
export function utcTime(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

// Lists read "a, b, c"; mappings "key → value, ...".
function text(value) {
  if (Array.isArray(value)) return value.map(text).join(", ");
  if (value !== null && typeof value === "object") {
    return Object.entries(value)
      .map(([k, v]) => `${k} → ${text(v)}`)
      .join(", ");
  }
  return String(value);
}

const FORMATS = {
  count: (v) => grouped.format(v),
  sec: seconds,
  pct: (v) => `${v.toFixed(1)}%`,
  ms: (v) => `${grouped.format(Math.round(v))} ms`,
  usd: (v) => `$${Math.abs(v) < 1 ? v.toFixed(4) : v.toFixed(2)}`,
  score: (v) => v.toFixed(2),
  pvalue: (v) => (v < 0.001 ? "< 0.001" : v.toFixed(3)),
  bool: (v) => (v ? "yes" : "no"),
  time: utcTime,
  text,
};

export function format(value, kind = "count") {
  if (value === null || value === undefined) return MISSING;
  const formatter = FORMATS[kind] ?? FORMATS.text;
  if (typeof value !== "number" && kind !== "bool" && kind !== "time" && kind !== "text") {
    return text(value);
  }
  return formatter(value);
}
