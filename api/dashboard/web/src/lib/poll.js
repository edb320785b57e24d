// Loads a page's data now and every `refreshSec` seconds, one request set at a time. A failed
// refresh keeps the last figures on screen (state "error" with the error beside them; what the
// page's other requests answered still shows: api.getAll);
// changing `key` (the page's query) starts over.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

const INITIAL = { state: "loading", data: null, error: null, refreshedAt: null };

export function usePoll(load, key, refreshSec) {
  const [result, setResult] = useState(INITIAL);
  const loadRef = useRef(load);
  loadRef.current = load;
  const kick = useRef(() => {});

  useEffect(() => {
    let alive = true;
    let timer = null;
    let running = false;
    setResult(INITIAL);

    async function tick() {
      if (running) return;
      running = true;
      clearTimeout(timer);
      try {
        const data = await loadRef.current();
        if (alive) setResult({ state: "ready", data, error: null, refreshedAt: new Date().toISOString() });
      } catch (error) {
        if (alive) {
          setResult((previous) => ({
            ...previous,
            state: "error",
            error,
            data: error?.partial ? { ...(previous.data ?? {}), ...error.partial } : previous.data,
          }));
        }
      } finally {
        running = false;
      }
      if (alive) timer = setTimeout(tick, refreshSec * 1000);
    }

    kick.current = tick;
    tick();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [key, refreshSec]);

  const reload = useCallback(() => kick.current(), []);
  return { ...result, reload };
}
