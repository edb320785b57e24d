// The dashboard: sign-in, the navigation and the page the hash names (lib/route.js).
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { html } from "./lib/html.js";
import { ApiError, UNAUTHORIZED, request } from "./lib/api.js";
import { PAGES, hashFor, parseHash, refreshSec } from "./lib/route.js";
import { forgetToken, storeToken, storedToken, takeTokenFromUrl } from "./lib/session.js";
import { Wallboard } from "./pages/wallboard.js";
import { Trends } from "./pages/trends.js";
import { Operators } from "./pages/operators.js";
import { Deals } from "./pages/deals.js";
import { Voicebot } from "./pages/voicebot.js";
import { Integrations } from "./pages/integrations.js";
import { Operations } from "./pages/operations.js";

const VIEWS = {
  wallboard: Wallboard,
  trends: Trends,
  operators: Operators,
  deals: Deals,
  voicebot: Voicebot,
  integrations: Integrations,
  operations: Operations,
};

function useHash() {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const changed = () => setHash(window.location.hash);
    window.addEventListener("hashchange", changed);
    // The hash may have changed between the first render and this effect, with nobody
    // listening yet: a link followed right after sign-in would otherwise show the old page.
    changed();
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return parseHash(hash);
}

function useClock() {
  const [now, setNow] = useState(new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function SignIn({ message, onToken }) {
  const [token, setToken] = useState("");
  function submit(event) {
    event.preventDefault();
    if (token.trim()) onToken(token.trim());
  }
  return html`<div class="signin-wrap">
    <form class="signin card" data-signin onSubmit=${submit}>
      <div class="brand large"><span class="brand-mark">◉</span> Switchboard</div>
      <p class="muted">Sign in with an API bearer token. <code>switchboard up</code> prints a sign-in link; <code>switchboard token create --enterprise E</code> makes a token.</p>
      ${message ? html`<div class="error" data-error role="alert">${message}</div>` : null}
      <label for="token">Bearer token</label>
      <input id="token" name="token" type="password" autocomplete="off" placeholder="sbt_…" value=${token} onInput=${(e) => setToken(e.target.value)} />
      <button type="submit" class="button primary">Sign in</button>
    </form>
  </div>`;
}

function EnterprisePicker({ page, params, session }) {
  const choices = session?.enterprises ?? [];
  if (choices.length < 2) return null;
  const current = params.get("enterprise") ?? "";
  return html`<label class="enterprise" title="Enterprise">
    <select data-control="enterprise" value=${current} onChange=${(e) => (window.location.hash = hashFor(page, params, { enterprise: e.target.value }, { keepAll: true }))}>
      <option value="">All enterprises</option>
      ${choices.map((e) => html`<option value=${e}>${e}</option>`)}
    </select>
  </label>`;
}

function Header({ page, params, session, onSignOut }) {
  const now = useClock();
  return html`<header class="top">
    <a class="brand" href=${hashFor("wallboard", params)}><span class="brand-mark">◉</span> Switchboard</a>
    <nav>
      ${PAGES.map(
        (p) => html`<a href=${hashFor(p.name, params)} class=${p.name === page ? "active" : ""} aria-current=${p.name === page ? "page" : undefined} data-nav=${p.name}>${p.title}</a>`,
      )}
    </nav>
    <div class="top-right">
      <${EnterprisePicker} page=${page} params=${params} session=${session} />
      <span class="clock mono" title="UTC">${now.toISOString().slice(11, 19)} UTC</span>
      ${session?.name ? html`<span class="who-am-i muted" title="Token name">${session.name}${session.admin ? " · admin" : ""}</span>` : null}
      <button type="button" class="button" data-action="sign-out" onClick=${onSignOut}>Sign out</button>
    </div>
  </header>`;
}

function TvBar({ page }) {
  const now = useClock();
  const title = PAGES.find((p) => p.name === page)?.title ?? "";
  return html`<header class="tv-bar"><span class="brand"><span class="brand-mark">◉</span> Switchboard · ${title}</span><span class="clock mono">${now.toISOString().slice(11, 19)} UTC</span></header>`;
}

// What the token may see (GET /api/session); null fields when the API cannot say.
async function loadSession(token) {
  try {
    return await request("GET", "/api/session", null, token);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    return { name: null, enterprises: [], admin: null };
  }
}

function App() {
  const [token, setToken] = useState(() => {
    const fromUrl = takeTokenFromUrl();
    if (fromUrl) storeToken(fromUrl);
    return storedToken();
  });
  const [session, setSession] = useState(null);
  const [message, setMessage] = useState(null);
  const { page, params } = useHash();

  useEffect(() => {
    const refused = () => {
      forgetToken();
      setToken(null);
      setSession(null);
      setMessage("The API refused this token (401): it is unknown, revoked or mistyped. Sign in again.");
    };
    window.addEventListener(UNAUTHORIZED, refused);
    return () => window.removeEventListener(UNAUTHORIZED, refused);
  }, []);

  useEffect(() => {
    if (!token) return;
    let alive = true;
    loadSession(token).then(
      (found) => alive && setSession(found),
      () => {},
    );
    return () => {
      alive = false;
    };
  }, [token]);

  if (!token) {
    return html`<${SignIn}
      message=${message}
      onToken=${(value) => {
        storeToken(value);
        setMessage(null);
        setToken(value);
      }}
    />`;
  }
  if (!session) return html`<main class="page" data-page=${page} data-state="loading"><div class="empty">Signing in…</div></main>`;

  const tv = params.get("tv") === "1";
  const View = VIEWS[page];
  const signOut = () => {
    forgetToken();
    setToken(null);
    setSession(null);
    setMessage(null);
  };
  return html`<div class=${`app ${tv ? "tv" : ""} page-${page}`}>
    ${tv ? html`<${TvBar} page=${page} />` : html`<${Header} page=${page} params=${params} session=${session} onSignOut=${signOut} />`}
    <${View} key=${page} params=${params} refresh=${refreshSec(params)} session=${session} />
  </div>`;
}

render(html`<${App} />`, document.getElementById("root"));
