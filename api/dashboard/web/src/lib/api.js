// Requests to the API with the session's token. A 401 anywhere signs out (the app listens
// for UNAUTHORIZED); other failures reject with an ApiError carrying the API's own message.
import { storedToken } from "./session.js";

export const UNAUTHORIZED = "switchboard:unauthorized";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function url(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === null || value === undefined || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) query.append(key, String(one));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export async function request(method, path, params, token = storedToken()) {
  let response;
  try {
    response = await fetch(url(path, params), {
      method,
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, "network", "The API cannot be reached; retrying.");
  }
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    body = null;
  }
  if (response.status === 401) {
    window.dispatchEvent(new CustomEvent(UNAUTHORIZED));
    throw new ApiError(401, "unauthorized", body?.error?.message ?? "Sign in again.");
  }
  if (!response.ok) {
    const code = body?.error?.code ?? `http_${response.status}`;
    const message = body?.error?.message ?? `The API answered ${response.status}.`;
    throw new ApiError(response.status, code, message);
  }
  return body;
}

export const get = (path, params) => request("GET", path, params);
export const post = (path, params) => request("POST", path, params);

// The day of `date` in UTC, as the API's from/to take it.
export function utcDayStart(date = new Date()) {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

export function iso(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// Several requests of one page, by name. When some fail, the error carries what the others
// answered (`partial`), so the page keeps showing them beside the failure.
export async function getAll(requests) {
  const names = Object.keys(requests);
  const settled = await Promise.allSettled(names.map((name) => requests[name]));
  const data = {};
  const failed = [];
  settled.forEach((outcome, i) => {
    if (outcome.status === "fulfilled") data[names[i]] = outcome.value;
    else failed.push([names[i], outcome.reason]);
  });
  if (failed.length === 0) return data;
  const [first] = failed;
  const error =
    failed.length === 1
      ? new ApiError(first[1]?.status ?? 0, first[1]?.code ?? "error", `${first[0]}: ${first[1]?.message ?? first[1]}`)
      : new ApiError(0, "errors", failed.map(([name, reason]) => `${name}: ${reason?.message ?? reason}`).join("; "));
  error.partial = data;
  throw error;
}
