// The strings of the page: t(key, values) and applyStrings(root), read from strings.js.
import { STRINGS } from "./strings.js";

let language = "en";

export function setLanguage(name) {
  if (STRINGS[name]) language = name;
  document.documentElement.lang = language;
}

// The string `key` in the current language with {name} placeholders filled from `values`.
export function t(key, values = {}) {
  const text = STRINGS[language]?.[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// `t(key)` if the table has it, else `fallback` (a registry name the table does not know).
export function label(key, fallback) {
  return STRINGS[language]?.[key] ?? STRINGS.en[key] ?? fallback;
}

// Fill every [data-i18n] element's text and every [data-i18n-title] element's tooltip.
export function applyStrings(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  for (const element of root.querySelectorAll("[data-i18n-title]")) element.title = t(element.dataset.i18nTitle);
}
