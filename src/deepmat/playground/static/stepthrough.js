// The step-through: one equation at a time, its layer's dimension check beside it, every
// matrix it names drawn as a heatmap (heatmap.js). The equations and values come from the
// server (GET /api/sessions/{id}/steps).
import { heatmap } from "./heatmap.js";
import { t } from "./i18n.js";

export class StepThrough {
  constructor(root) {
    this.root = root;
    this.data = null;
    this.index = 0;
    this.position = root.querySelector("[data-testid=step-position]");
    this.heading = root.querySelector("[data-testid=step-heading]");
    this.title = root.querySelector("[data-testid=step-title]");
    this.check = root.querySelector("[data-testid=step-check]");
    this.equation = root.querySelector("[data-testid=step-equation]");
    this.notes = root.querySelector("[data-testid=step-notes]");
    this.matrices = root.querySelector("[data-testid=step-matrices]");
    this.oneSample = root.querySelector("[data-testid=step-one-sample]");
    this.list = root.querySelector("[data-testid=step-list]");
    this.batch = root.querySelector("[data-testid=step-batch]");
    root.querySelector("[data-testid=step-previous]").addEventListener("click", () => this.show(this.index - 1));
    root.querySelector("[data-testid=step-next]").addEventListener("click", () => this.show(this.index + 1));
  }

  // Show `data` (GET …/steps) at equation `index`; loaded again in another language, it keeps its place.
  load(data, index = 0) {
    this.data = data;
    this.batch.textContent = t("steps.batch", { m: data.m, dims: data.layer_dims.join(", ") });
    this.list.replaceChildren(
      ...data.steps.map((step, i) => {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = `equation-link ${step.phase}`;
        button.textContent = step.equation;
        button.addEventListener("click", () => this.show(i));
        item.append(button);
        return item;
      }),
    );
    this.root.hidden = false;
    this.show(index);
  }

  show(index) {
    const steps = this.data.steps;
    this.index = Math.max(0, Math.min(steps.length - 1, index));
    const step = steps[this.index];
    this.position.textContent = t("steps.position", { index: this.index + 1, count: steps.length });
    this.heading.textContent = t(step.phase === "forward" ? "steps.forward" : "steps.backward", { l: step.l });
    this.title.textContent = step.title;
    this.check.textContent = step.check;
    this.check.parentElement.hidden = !step.check;
    this.equation.textContent = step.equation;
    this.notes.replaceChildren(
      ...step.notes.map((note) => Object.assign(document.createElement("p"), { textContent: note })),
    );
    this.oneSample.textContent = step.one_sample.join("\n");
    const figures = [];
    step.matrices.forEach((matrix, i) => {
      if (i === 1 && step.matrices[0].side === "left") {
        figures.push(Object.assign(document.createElement("span"), { className: "equals", textContent: t("steps.equals") }));
      }
      figures.push(heatmap(matrix, this.data.arrays[matrix.array]));
    });
    this.matrices.replaceChildren(...figures);
    this.list.querySelectorAll("button").forEach((button, i) => button.classList.toggle("current", i === this.index));
  }
}
