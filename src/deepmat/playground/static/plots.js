// The decision boundary with the points, the cost curve and the weight histograms, on canvases.
import { css, labelColor, paintGrid, probabilityColor } from "./colors.js";
import { t } from "./i18n.js";

// P(label 1) over the plane (boundary.values, row-major from the top-left), then the points.
export function drawBoundary(canvas, boundary, points) {
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (boundary) {
    const n = boundary.size;
    paintGrid(canvas, n, n, (r, c) => probabilityColor(boundary.values[r * n + c]));
  }
  if (!points) return;
  const view = points.view;
  const x = (v) => ((v + view) / (2 * view)) * canvas.width;
  const y = (v) => ((view - v) / (2 * view)) * canvas.height;
  for (const [part, ring] of [["train", false], ["test", true]]) {
    const { points: xy, labels } = points[part];
    for (let i = 0; i < xy.length; i++) {
      context.beginPath();
      context.arc(x(xy[i][0]), y(xy[i][1]), 3.2, 0, 2 * Math.PI);
      context.fillStyle = css(labelColor(labels[i]));
      context.fill();
      context.lineWidth = ring ? 1.6 : 0.8;
      context.strokeStyle = ring ? "#222" : "#fff";
      context.stroke();
    }
  }
}

// The training and test cost against the iterations (curve rows: [iteration, train, test, …]).
export function drawCurve(canvas, curve) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  const pad = { left: 44, right: 8, top: 10, bottom: 26 };
  context.clearRect(0, 0, width, height);
  const costs = curve.flatMap((row) => [row[1], row[2]]).filter((v) => v !== null && Number.isFinite(v));
  if (!costs.length) return;
  const last = curve[curve.length - 1][0] || 1;
  const top = Math.max(...costs) * 1.05 || 1;
  const px = (it) => pad.left + (it / last) * (width - pad.left - pad.right);
  const py = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);
  context.strokeStyle = "#999";
  context.lineWidth = 1;
  context.beginPath();
  context.moveTo(pad.left, pad.top);
  context.lineTo(pad.left, height - pad.bottom);
  context.lineTo(width - pad.right, height - pad.bottom);
  context.stroke();
  context.fillStyle = "#444";
  context.font = "11px sans-serif";
  context.fillText(top.toPrecision(2), 4, pad.top + 8);
  context.fillText("0", 30, height - pad.bottom);
  context.fillText(`${t("chart.iterations")}: ${last}`, pad.left, height - 8);
  context.fillText(t("chart.cost"), 4, height / 2);
  for (const [column, colour, dash, name, offset] of [
    [1, "#1f5f99", [], "chart.train", 0],
    [2, "#d9730d", [5, 3], "chart.test", 1],
  ]) {
    context.strokeStyle = colour;
    context.setLineDash(dash);
    context.lineWidth = 2;
    context.beginPath();
    let started = false;
    for (const row of curve) {
      if (row[column] === null) continue;
      if (started) context.lineTo(px(row[0]), py(row[column]));
      else context.moveTo(px(row[0]), py(row[column]));
      started = true;
    }
    context.stroke();
    context.setLineDash([]);
    context.fillStyle = colour;
    context.fillText(t(name), width - 70, pad.top + 10 + 13 * offset);
  }
}

// A histogram: bars of counts between edges, labelled with the first and last edge.
export function drawHistogram(canvas, histogram) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  const { counts, edges } = histogram;
  if (!counts.length) return;
  const most = Math.max(...counts) || 1;
  const bar = width / counts.length;
  context.fillStyle = "#1f5f99";
  counts.forEach((count, i) => {
    const h = (count / most) * (height - 14);
    context.fillRect(i * bar + 1, height - 14 - h, bar - 2, h);
  });
  context.fillStyle = "#444";
  context.font = "10px sans-serif";
  context.fillText(String(edges[0]), 0, height - 2);
  const right = String(edges[edges.length - 1]);
  context.fillText(right, width - context.measureText(right).width, height - 2);
}
