// Colour scales: blue (label 0, negative) — white — orange (label 1, positive).
const BLUE = [8, 119, 189];
const ORANGE = [245, 147, 34];
const WHITE = [248, 248, 248];

function mix(a, b, s) {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * s));
}

// A probability p in [0, 1]: blue at 0, white at 0.5, orange at 1.
export function probabilityColor(p) {
  return p < 0.5 ? mix(BLUE, WHITE, p * 2) : mix(WHITE, ORANGE, (p - 0.5) * 2);
}

// A value v scaled by the largest magnitude m: blue below 0, white at 0, orange above.
export function divergingColor(v, m) {
  if (!(m > 0) || !Number.isFinite(v)) return WHITE;
  return probabilityColor(0.5 + Math.max(-1, Math.min(1, v / m)) / 2);
}

// A point of label 0 or 1: its label's colour, a little darker than the background's.
export function labelColor(label) {
  return (label === 1 ? ORANGE : BLUE).map((v) => Math.round(v * 0.85));
}

export function css([r, g, b]) {
  return `rgb(${r}, ${g}, ${b})`;
}

// Draw a rows × cols grid of colours (colorAt(r, c) → [r, g, b]) onto a canvas, cells stretched.
export function paintGrid(canvas, rows, cols, colorAt) {
  const context = canvas.getContext("2d");
  const image = context.createImageData(cols, rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const [red, green, blue] = colorAt(r, c);
      const i = 4 * (r * cols + c);
      image.data.set([red, green, blue, 255], i);
    }
  }
  const small = document.createElement("canvas");
  small.width = cols;
  small.height = rows;
  small.getContext("2d").putImageData(image, 0, 0);
  context.imageSmoothingEnabled = false;
  context.drawImage(small, 0, 0, canvas.width, canvas.height);
}
