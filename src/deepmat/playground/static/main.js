// The page: a session on the server, the settings form, Play / Pause / Step / Reset, and the
// panels (step-through, health, export). Numbers come from the server; this only draws.
import { api, ApiError } from "./api.js";
import { SettingsForm } from "./form.js";
import { renderHealth } from "./health.js";
import { applyStrings, currentLanguage, initialLanguage, loadGlossary, setLanguage, t } from "./i18n.js";
import { drawBoundary, drawCurve } from "./plots.js";
import { StepThrough } from "./stepthrough.js";

const $ = (selector) => document.querySelector(selector);
const page = { id: null, points: null, playing: false, busy: false, state: null, error: null, health: null };

function showMessage(error) {
  const box = $("#message");
  page.error = error;
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  const code = error instanceof ApiError ? error.code : "internal";
  box.dataset.code = code;
  box.textContent = `${t(`error.${code}`)} ${error.message}`;
  box.hidden = false;
}

function showWarnings(state) {
  const box = $("#warnings");
  const lines = [...state.warnings];
  if (state.diverged) lines.push(`${t("diverged.heading")} ${state.diverged}`);
  box.textContent = lines.map((line) => (line.startsWith(t("diverged.heading")) ? line : `${t("warning.heading")} ${line}`)).join("\n");
  box.hidden = !lines.length;
}

function render(state) {
  page.state = state;
  if (state.points) page.points = state.points;
  $("#position").textContent = t("controls.position", { iteration: state.iteration, epoch: state.epoch });
  $("#position").dataset.iteration = state.iteration;
  drawBoundary($("#boundary"), state.boundary, page.points);
  drawCurve($("#curve"), state.curve);
  for (const key of ["train_loss", "test_loss", "train_accuracy", "test_accuracy"]) {
    const cell = $(`[data-testid=${key}]`);
    cell.textContent = state[key] === null ? "—" : state[key].toFixed(4);
    cell.dataset.value = state[key] ?? "";
  }
  showWarnings(state);
  if (state.diverged) setPlaying(false);
}

function started(state) {
  page.id = state.id;
  $("#export-model").href = api.modelUrl(state.id);
  $("#export-snippet").href = api.snippetUrl(state.id);
  $("#snippet").hidden = true;
  $("#steps").hidden = true;
  $("#health").replaceChildren();
  page.health = null;
  render(state);
}

async function run(action) {
  try {
    const result = await action();
    showMessage(null);
    return result;
  } catch (error) {
    showMessage(error);
    setPlaying(false);
    return undefined;
  }
}

async function applySettings(settings) {
  setPlaying(false);
  const state = await run(() => (page.id ? api.update(page.id, settings) : api.create(settings)));
  if (state) started(state);
}

async function trainOnce(steps) {
  if (page.busy || !page.id) return;
  page.busy = true;
  const state = await run(() => api.train(page.id, steps));
  page.busy = false;
  if (state) render(state);
}

function setPlaying(playing) {
  const starting = playing && !page.playing;
  page.playing = playing;
  const button = $("#play");
  button.textContent = t(playing ? "controls.pause" : "controls.play");
  button.dataset.playing = playing;
  if (starting) requestAnimationFrame(loop);
}

async function loop() {
  if (!page.playing) return;
  await trainOnce(Number($("#speed").value));
  if (page.playing) requestAnimationFrame(loop);
}

// Another language: every label, tooltip, button and message again, from the same session and
// the same numbers (the step-through's titles and checks are the server's: asked for again).
async function switchLanguage(name, steps) {
  setLanguage(name);
  const url = new URL(location.href);
  url.searchParams.set("lang", currentLanguage());
  history.replaceState(null, "", url);
  applyStrings();
  for (const button of document.querySelectorAll("button[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === currentLanguage()));
  }
  setPlaying(page.playing);
  if (page.state) render(page.state);
  if (page.error) showMessage(page.error);
  if (page.health) renderHealth($("#health"), page.health);
  if (steps && !$("#steps").hidden && page.id) {
    const data = await run(() => api.steps(page.id, currentLanguage()));
    if (data) steps.load(data, steps.index);
  }
  document.body.dataset.lang = currentLanguage();
}

async function main() {
  await loadGlossary().catch(() => {}); // without it a term shows as its [[key]]
  await switchLanguage(initialLanguage(), null);
  setPlaying(false);
  const options = await run(api.options);
  if (!options) return;
  const form = new SettingsForm(
    { data: $("#data-fields"), network: $("#network-fields"), training: $("#training-fields") },
    options,
    applySettings,
  );
  const steps = new StepThrough($("#steps"));
  for (const button of document.querySelectorAll("button[data-lang]")) {
    button.addEventListener("click", () => switchLanguage(button.dataset.lang, steps));
  }
  $("#play").addEventListener("click", () => setPlaying(!page.playing));
  $("#step").addEventListener("click", () => trainOnce(1));
  $("#reset").addEventListener("click", () => applySettings(form.values()));
  $("#steps-load").addEventListener("click", async () => {
    setPlaying(false);
    const data = await run(() => api.steps(page.id, currentLanguage()));
    if (data) steps.load(data);
  });
  $("#health-load").addEventListener("click", async () => {
    const data = await run(() => api.health(page.id));
    if (data) renderHealth($("#health"), (page.health = data));
  });
  $("#snippet-show").addEventListener("click", async () => {
    const text = await run(() => api.snippet(page.id));
    if (text !== undefined) Object.assign($("#snippet"), { textContent: text, hidden: false });
  });
  window.addEventListener("pagehide", () => page.id && api.close(page.id));
  await applySettings(form.values());
  document.body.dataset.ready = "true";
}

main();
