// Layer health: a table of norms and dead units, a weight histogram per layer and each
// hidden unit's activation over the plane (GET /api/sessions/{id}/health).
import { divergingColor, paintGrid } from "./colors.js";
import { t } from "./i18n.js";
import { drawHistogram } from "./plots.js";

const COLUMNS = ["l", "units", "activation", "weight_norm", "grad_W_norm", "grad_b_norm", "dead_share"];

function number(value) {
  if (value === null) return "—";
  return typeof value === "number" && !Number.isInteger(value) ? value.toPrecision(3) : String(value);
}

function unitMap(layer, j) {
  const { size, maps, low, high } = layer.unit_maps;
  const bytes = Uint8Array.from(atob(maps[j]), (c) => c.charCodeAt(0));
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 3 * size;
  paintGrid(canvas, size, size, (r, c) => divergingColor(bytes[r * size + c] - 127.5, 127.5));
  canvas.title = t("health.unit", { j: j + 1, l: layer.l, low: number(low[j]), high: number(high[j]) });
  canvas.dataset.testid = "unit-map";
  return canvas;
}

export function renderHealth(root, health) {
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  for (const column of COLUMNS) {
    const cell = document.createElement("th");
    cell.textContent = t(column === "l" ? "health.layer" : `health.${column}`);
    if (column === "dead_share") cell.title = t("health.dead_share.tip");
    head.append(cell);
  }
  const body = table.createTBody();
  const pictures = [];
  for (const layer of health.layers) {
    const row = body.insertRow();
    row.dataset.testid = "health-row";
    for (const column of COLUMNS) row.insertCell().textContent = number(layer[column]);
    const figure = document.createElement("figure");
    figure.className = "histogram";
    const canvas = document.createElement("canvas");
    canvas.width = 180;
    canvas.height = 70;
    drawHistogram(canvas, layer.histogram);
    const caption = document.createElement("figcaption");
    caption.textContent = t("health.histogram", { l: layer.l });
    figure.append(caption, canvas);
    pictures.push(figure);
    if (layer.unit_maps) {
      const units = document.createElement("figure");
      units.className = "units";
      const heading = document.createElement("figcaption");
      heading.textContent = t("health.units_heading", { l: layer.l });
      units.append(heading, ...layer.unit_maps.maps.map((_, j) => unitMap(layer, j)));
      pictures.push(units);
    }
  }
  const gallery = document.createElement("div");
  gallery.className = "gallery";
  gallery.append(...pictures);
  root.replaceChildren(table, gallery);
}
