// The server's JSON API. Every failure becomes an ApiError with the server's code and message.
export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function request(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new ApiError("network", String(error.message || error));
  }
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  if (!type.startsWith("application/json")) {
    if (response.ok) return response.text();
    throw new ApiError("internal", `${response.status} ${response.statusText}`);
  }
  const data = await response.json();
  if (!response.ok) throw new ApiError(data.code || "internal", data.message || String(response.status));
  return data;
}

export const api = {
  options: () => request("GET", "/api/options"),
  create: (settings) => request("POST", "/api/sessions", settings),
  update: (id, settings) => request("PUT", `/api/sessions/${id}`, settings),
  state: (id) => request("GET", `/api/sessions/${id}`),
  train: (id, steps) => request("POST", `/api/sessions/${id}/train`, { steps }),
  steps: (id, lang) => request("GET", `/api/sessions/${id}/steps?lang=${encodeURIComponent(lang)}`),
  health: (id) => request("GET", `/api/sessions/${id}/health`),
  snippet: (id) => request("GET", `/api/sessions/${id}/snippet`),
  modelUrl: (id) => `/api/sessions/${id}/model`,
  snippetUrl: (id) => `/api/sessions/${id}/snippet`,
  close: (id) => fetch(`/api/sessions/${id}`, { method: "DELETE", keepalive: true }).catch(() => {}),
};
