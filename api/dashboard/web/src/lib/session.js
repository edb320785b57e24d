// The bearer token, kept for the browser tab only (sessionStorage).

const KEY = "switchboard.token";

export function storedToken() {
  return window.sessionStorage.getItem(KEY);
}

export function storeToken(token) {
  window.sessionStorage.setItem(KEY, token);
}

export function forgetToken() {
  window.sessionStorage.removeItem(KEY);
}

// `/#token=TOKEN` signs in directly; the token then leaves the address bar and the history.
export function takeTokenFromUrl() {
  const match = window.location.hash.match(/^#token=([^&]+)/);
  if (!match) return null;
  const token = decodeURIComponent(match[1]);
  window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}#/wallboard`);
  return token;
}
