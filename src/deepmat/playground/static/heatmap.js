// A matrix as a heatmap: one cell per entry, coloured by its sign and size, labelled with its
// name and shape (rows × columns), its value shown on hover.
import { divergingColor, paintGrid } from "./colors.js";
import { t } from "./i18n.js";

const MAX_SIDE = 260;

// A <figure> for `matrix` ({name, shape, transposed, side}) whose values are `array` ({values}).
export function heatmap(matrix, array) {
  const [rows, cols] = matrix.shape;
  const at = matrix.transposed ? (r, c) => array.values[c][r] : (r, c) => array.values[r][c];
  let largest = 0;
  for (const row of array.values) for (const v of row) largest = Math.max(largest, Math.abs(v));
  const cell = Math.max(3, Math.min(22, Math.floor(MAX_SIDE / Math.max(rows, cols))));

  const figure = document.createElement("figure");
  figure.className = `matrix ${matrix.side}`;
  figure.dataset.testid = "matrix";
  figure.dataset.name = matrix.name;
  figure.dataset.rows = rows;
  figure.dataset.cols = cols;
  const caption = document.createElement("figcaption");
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = matrix.name;
  const shape = document.createElement("span");
  shape.className = "shape";
  shape.dataset.testid = "shape";
  shape.textContent = `(${rows}×${cols})`;
  caption.append(name, " ", shape);
  const canvas = document.createElement("canvas");
  canvas.width = cols * cell;
  canvas.height = rows * cell;
  paintGrid(canvas, rows, cols, (r, c) => divergingColor(at(r, c), largest));
  const readout = document.createElement("output");
  readout.dataset.testid = "hover";
  readout.textContent = t("steps.hover");
  canvas.addEventListener("mousemove", (event) => {
    const box = canvas.getBoundingClientRect();
    const r = Math.min(rows - 1, Math.floor(((event.clientY - box.top) / box.height) * rows));
    const c = Math.min(cols - 1, Math.floor(((event.clientX - box.left) / box.width) * cols));
    readout.textContent = t("steps.cell", { name: matrix.name, row: r + 1, column: c + 1, value: at(r, c) });
  });
  figure.append(caption, canvas, readout);
  return figure;
}
