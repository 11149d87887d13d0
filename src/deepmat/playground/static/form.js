// The settings form, built from the server's options (choices, bounds, defaults); the page
// checks nothing itself: the server checks every setting and the page shows its message.
import { has, label, t } from "./i18n.js";

// [setting, kind, panel]: the order the form shows them in.
const FIELDS = [
  ["dataset", "select", "data"],
  ["noise", "range", "data"],
  ["samples", "number", "data"],
  ["train_share", "range", "data"],
  ["features", "checkboxes", "data"],
  ["hidden", "layers", "network"],
  ["activation", "select", "network"],
  ["output", "select", "network"],
  ["loss", "select", "network"],
  ["init", "select", "network"],
  ["optimizer", "select", "training"],
  ["learning_rate", "number", "training"],
  ["batch_size", "number", "training"],
  ["l2", "number", "training"],
  ["dropout", "number", "training"],
  ["seed", "number", "training"],
];
const STEPS = { noise: 0.05, train_share: 0.05, samples: 10, dropout: 0.05 };

// Every text of the form carries its key (data-i18n), so applyStrings relabels it in another language.
function option(value, prefix) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = label(`${prefix}.${value}`, value);
  if (has(`${prefix}.${value}`)) element.dataset.i18n = `${prefix}.${value}`;
  return element;
}

function field(name) {
  const wrapper = document.createElement("div");
  wrapper.className = "field";
  wrapper.title = t(`setting.${name}.tip`);
  wrapper.dataset.i18nTitle = `setting.${name}.tip`;
  const caption = document.createElement("label");
  caption.textContent = t(`setting.${name}`);
  caption.dataset.i18n = `setting.${name}`;
  caption.htmlFor = `setting-${name}`;
  wrapper.append(caption);
  return wrapper;
}

export class SettingsForm {
  // Build the fields into the containers {data, network, training}; `onChange(settings)` is
  // called with every setting each time one changes.
  constructor(containers, options, onChange) {
    this.options = options;
    this.onChange = onChange;
    this.inputs = {};
    for (const [name, kind, panel] of FIELDS) {
      const wrapper = field(name);
      const build = { select: this.select, range: this.number, number: this.number };
      if (kind === "checkboxes") this.checkboxes(wrapper, name);
      else if (kind === "layers") this.layers(wrapper);
      else build[kind].call(this, wrapper, name, kind);
      containers[panel].append(wrapper);
    }
    this.set(options.defaults);
  }

  select(wrapper, name) {
    const input = document.createElement("select");
    input.id = `setting-${name}`;
    input.dataset.setting = name;
    const choices = name === "loss" ? [] : this.options.choices[name];
    for (const value of choices) input.append(option(value, name));
    input.addEventListener("change", () => this.changed(name));
    wrapper.append(input);
    this.inputs[name] = input;
  }

  number(wrapper, name, kind) {
    const input = document.createElement("input");
    input.id = `setting-${name}`;
    input.dataset.setting = name;
    input.type = kind;
    const [low, high] = this.options.limits[name];
    input.min = low;
    input.max = high;
    input.step = STEPS[name] ?? "any";
    input.addEventListener("change", () => this.changed(name));
    wrapper.append(input);
    if (kind === "range") {
      const shown = document.createElement("output");
      input.addEventListener("input", () => (shown.textContent = input.value));
      wrapper.append(shown);
      input.shown = shown;
    }
    this.inputs[name] = input;
  }

  checkboxes(wrapper, name) {
    const group = document.createElement("div");
    group.className = "checkboxes";
    this.inputs[name] = [];
    for (const value of this.options.choices[name]) {
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = value;
      box.dataset.setting = name;
      box.addEventListener("change", () => this.changed(name));
      const caption = document.createElement("label");
      const text = Object.assign(document.createElement("span"), { textContent: label(`feature.${value}`, value) });
      if (has(`feature.${value}`)) text.dataset.i18n = `feature.${value}`;
      caption.append(box, text);
      group.append(caption);
      this.inputs[name].push(box);
    }
    wrapper.append(group);
  }

  layers(wrapper) {
    const count = document.createElement("input");
    count.type = "number";
    count.id = "setting-hidden";
    count.dataset.setting = "hidden-count";
    [count.min, count.max] = this.options.limits.hidden_layers;
    const units = document.createElement("div");
    units.className = "units";
    count.addEventListener("change", () => {
      const n = Math.max(0, Math.min(12, Math.round(Number(count.value)) || 0));
      const current = this.unitValues();
      this.layout(Array.from({ length: n }, (_, i) => current[i] ?? current[current.length - 1] ?? 4));
      this.changed("hidden");
    });
    wrapper.append(count, units);
    this.inputs.hidden = { count, units };
  }

  layout(values) {
    const { count, units } = this.inputs.hidden;
    count.value = values.length;
    units.replaceChildren();
    values.forEach((value, i) => {
      const input = document.createElement("input");
      input.type = "number";
      input.value = value;
      [input.min, input.max] = this.options.limits.units;
      input.dataset.setting = "units";
      input.title = t("setting.units", { l: i + 1 });
      Object.assign(input.dataset, { i18nTitle: "setting.units", i18nValues: JSON.stringify({ l: i + 1 }) });
      input.addEventListener("change", () => this.changed("hidden"));
      units.append(input);
    });
  }

  unitValues() {
    return [...this.inputs.hidden.units.querySelectorAll("input")].map((input) => Number(input.value));
  }

  lossChoices(output) {
    const loss = this.inputs.loss;
    const previous = loss.value;
    loss.replaceChildren(...this.options.choices.loss[output].map((value) => option(value, "loss")));
    loss.value = this.options.choices.loss[output].includes(previous) ? previous : loss.options[0].value;
  }

  // Show `settings` in the form.
  set(settings) {
    for (const [name, kind] of FIELDS) {
      const value = settings[name];
      if (kind === "checkboxes") for (const box of this.inputs[name]) box.checked = value.includes(box.value);
      else if (kind === "layers") this.layout(value);
      else if (name === "loss") {
        this.lossChoices(settings.output);
        this.inputs.loss.value = value;
      } else {
        this.inputs[name].value = value;
        if (this.inputs[name].shown) this.inputs[name].shown.textContent = value;
      }
    }
  }

  // Every setting as the form holds it (numbers as numbers, whatever they are).
  values() {
    const settings = {};
    for (const [name, kind] of FIELDS) {
      if (kind === "checkboxes") settings[name] = this.inputs[name].filter((b) => b.checked).map((b) => b.value);
      else if (kind === "layers") settings[name] = this.unitValues();
      else if (kind === "select") settings[name] = this.inputs[name].value;
      else settings[name] = this.inputs[name].value === "" ? null : Number(this.inputs[name].value);
    }
    return settings;
  }

  changed(name) {
    if (name === "output") this.lossChoices(this.inputs.output.value);
    this.onChange(this.values());
  }
}
