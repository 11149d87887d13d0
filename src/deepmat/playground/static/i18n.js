// The strings of the page: t(key, values) and applyStrings(root), read from strings.js in the
// current language; a term written [[key]] is the glossary's (GET /glossary.json).
import { STRINGS } from "./strings.js";

export const LANGUAGES = Object.keys(STRINGS);
let language = "en";
let terms = {};

// Read the glossary the server serves (src/deepmat/i18n/glossary.json): the terms of the tables.
export async function loadGlossary() {
  const response = await fetch("/glossary.json");
  terms = (await response.json()).terms;
}

export function setLanguage(name) {
  if (STRINGS[name]) language = name;
  document.documentElement.lang = language === "zh" ? "zh-CN" : language;
}

export function currentLanguage() {
  return language;
}

// The language a page opens in: ?lang=, else the browser's (Chinese or not), else English.
export function initialLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (STRINGS[asked]) return asked;
  return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

function resolve(text) {
  return text.replace(/\[\[(\w+)\]\]/g, (whole, key) => terms[key]?.[language] ?? terms[key]?.en ?? whole);
}

// Whether the tables have `key` (a registry name they do not know has none).
export function has(key) {
  return key in STRINGS.en;
}

// The string `key` in the current language with {name} placeholders filled from `values`.
export function t(key, values = {}) {
  const text = resolve(STRINGS[language]?.[key] ?? STRINGS.en[key] ?? key);
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// `t(key)` if the table has it, else `fallback` (a registry name the table does not know).
export function label(key, fallback) {
  return has(key) ? t(key) : fallback;
}

// Fill every [data-i18n] element's text and every [data-i18n-title] element's tooltip (their
// placeholders from a [data-i18n-values] JSON object); called again when the language changes.
export function applyStrings(root = document) {
  const values = (element) => JSON.parse(element.dataset.i18nValues || "{}");
  for (const element of root.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n, values(element));
  for (const element of root.querySelectorAll("[data-i18n-title]")) element.title = t(element.dataset.i18nTitle, values(element));
}
