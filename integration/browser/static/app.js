"use strict";
// The front-end of corsgen's browser tests: a tiny single-page app on one origin that
// calls the predict API on another, the way such apps do. The upload form is used as a
// person would (a file chosen in <input type=file>, then the button); the tests drive
// everything else through `frontend.request(...)`, which is a plain fetch().
//
// Every call resolves to a plain object (fetch's own objects do not cross into the
// test): {ok: true, status, body, headers} when the browser let the page read the
// response, {ok: false, error, message} when fetch() rejected (a CORS refusal is a
// TypeError; the reason is only in the console, which the tests read too).

const frontend = {
  apiBase: "", // e.g. "http://127.0.0.1:8000", set by the test before the form is used
  tag: "", // a query string the test adds to each API call, to find it in the stub's log
  pending: null, // the promise of the last form submission

  apiUrl(path) {
    return this.apiBase + path + (this.tag ? (path.includes("?") ? "&" : "?") + this.tag : "");
  },

  async request({ url, method = "GET", headers = {}, json, credentials = "same-origin", readHeaders = [] }) {
    const init = { method, headers, credentials };
    if (json !== undefined) init.body = JSON.stringify(json);
    try {
      return await settle(await fetch(url, init), readHeaders);
    } catch (error) {
      return { ok: false, error: error.name, message: error.message };
    }
  },

  // What the form does: multipart upload of the chosen file, the way every image app does.
  async predict(file) {
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      return await settle(await fetch(this.apiUrl("/predict"), { method: "POST", body: form }), []);
    } catch (error) {
      return { ok: false, error: error.name, message: error.message };
    }
  },
};

async function settle(response, readHeaders) {
  const headers = {};
  for (const name of readHeaders) headers[name] = response.headers.get(name);
  return { ok: true, status: response.status, body: await response.text(), headers };
}

window.frontend = frontend;

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("predict-form");
  const output = document.getElementById("result");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = document.getElementById("image").files[0];
    output.dataset.state = "busy";
    frontend.pending = frontend.predict(file).then((result) => {
      output.dataset.state = result.ok ? "done" : "error";
      output.textContent = result.ok ? result.body : `${result.error}: ${result.message}`;
      return result;
    });
  });
});
