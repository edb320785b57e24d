// A uPlot chart whose axes name their units. The container carries `data-chart` (what it
// shows) and `data-points` (points per series); new data is drawn in place, without a flash.
import uPlot from "uplot";
import { useEffect, useRef } from "preact/hooks";
import { html } from "../lib/html.js";

const INK = "#c9d4e3";
const GRID = "rgba(201, 212, 227, 0.12)";
export const PALETTE = ["#4cc3ff", "#7ee787", "#f2cc60", "#ff8b8b", "#d2a8ff", "#ffa657"];

function axis(label, extra = {}) {
  return {
    label,
    stroke: INK,
    labelFont: "600 13px system-ui, sans-serif",
    font: "12px system-ui, sans-serif",
    grid: { stroke: GRID, width: 1 },
    ticks: { stroke: GRID, width: 1 },
    ...extra,
  };
}

function two(n) {
  return String(n).padStart(2, "0");
}

// Ticks in UTC, 24-hour: "14:00" within two days (the date at midnight), "12-06" beyond.
function utcTicks(u, splits) {
  const span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
  return splits.map((ts) => {
    const d = new Date(ts * 1000);
    const day = `${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
    const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
    if (span > 2 * 86400) return day;
    return time === "00:00" ? day : time;
  });
}

// xLabel, yLabel: axis titles with units; x: numbers (unix seconds when `time`);
// series: [{ label, values }]; categories: labels of x = 0, 1, ... instead of numbers.
export function Chart({ name, xLabel, yLabel, x, series, time = true, categories = null, height = 320 }) {
  const box = useRef(null);
  const plot = useRef(null);
  const data = [x, ...series.map((s) => s.values)];
  const shape = `${time}|${xLabel}|${yLabel}|${categories}|${series.map((s) => s.label).join(",")}`;

  useEffect(() => {
    const element = box.current;
    const options = {
      width: Math.max(element.clientWidth, 320),
      height,
      legend: { show: series.length > 1, live: false },
      scales: {
        x: categories ? { time: false, range: [-0.3, categories.length - 0.7] } : { time },
        y: { range: (u, min, max) => [Math.min(0, min ?? 0), Math.max(1, (max ?? 1) * 1.1)] } },
      axes: [
        axis(
          xLabel,
          categories
            ? { splits: () => categories.map((_, i) => i), values: (u, ticks) => ticks.map((t) => categories[t] ?? "") }
            : time
              ? { values: utcTicks }
              : {},
        ),
        axis(yLabel, { size: 64 }),
      ],
      series: [
        { label: xLabel, value: categories ? (u, v) => categories[v] ?? "" : undefined },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          fill: series.length === 1 ? "rgba(76, 195, 255, 0.12)" : undefined,
          points: { show: true, size: 5 },
          spanGaps: false,
        })),
      ],
      ...(time ? { tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC") } : {}),
    };
    plot.current = new uPlot(options, data, element);
    let frame = 0;
    // Resized on the next frame, not inside the observer's callback, so that resizing the
    // chart never notifies the observer again within the same frame.
    const resize = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        plot.current?.setSize({ width: Math.max(element.clientWidth, 320), height });
      });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      cancelAnimationFrame(frame);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return html`<div class="chart" ref=${box} data-chart=${name} data-points=${x.length} role="img" aria-label=${`${yLabel} by ${xLabel}`}></div>`;
}
