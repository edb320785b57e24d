// A table of API rows: each row keyed by `data-row`, each cell a figure of the row's field.
import { html } from "../lib/html.js";
import { Fig } from "./figure.js";
import { Empty } from "./page.js";

// Numbers right-aligned; a column that renders itself says its kind to be aligned as one.
function cellClass(column) {
  const kind = column.kind ?? (column.render ? "text" : "count");
  if (kind === "time") return "nowrap";
  return kind === "text" ? "" : "num";
}

// columns: [{ field, label, kind, value?: (row) => any, render?: (row) => vnode, align? }]
export function Table({ name, rows, rowKey, columns, empty = "Nothing yet.", onRow = null, selected = null, rowClass = null, rowAttrs = null }) {
  if (!rows || rows.length === 0) return html`<${Empty}>${empty}<//>`;
  return html`<div class="table-wrap">
    <table class="data" data-table=${name}>
      <thead>
        <tr>
          ${columns.map((c) => html`<th class=${cellClass(c)}>${c.label}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows.map((row) => {
          const key = rowKey(row);
          const classes = [onRow ? "clickable" : "", selected === key ? "selected" : "", rowClass ? rowClass(row) : ""]
            .filter(Boolean)
            .join(" ");
          return html`<tr
            key=${key}
            data-row=${key}
            class=${classes || undefined}
            onClick=${onRow ? () => onRow(row) : undefined}
            ...${rowAttrs ? rowAttrs(row) : {}}
          >
            ${columns.map(
              (c) => html`<td class=${cellClass(c)}>
                ${c.render ? c.render(row) : html`<${Fig} name=${c.field} value=${c.value ? c.value(row) : row?.[c.field]} kind=${c.kind ?? "count"} />`}
              </td>`,
            )}
          </tr>`;
        })}
      </tbody>
    </table>
  </div>`;
}
