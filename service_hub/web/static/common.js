/* Shared by the dashboard and the mobile view: page config, bearer session, API calls,
   DOM building and local-time formatting. No framework; nothing loaded from outside. */
"use strict";

const SH = (() => {
  const config = JSON.parse(document.getElementById("page-config").textContent);
  let serverOffsetMs = 0; // server clock minus ours, from the Date header of API answers

  class ApiError extends Error {
    constructor(status, body) {
      const error = (body && body.error) || {};
      super(error.message_zh || error.message || `请求失败（${status}）`);
      this.status = status;
      this.code = error.code;
      this.fields = error.fields;
    }
  }

  /** A bearer token kept in sessionStorage under `key` (closing the tab signs out). */
  function session(key) {
    return {
      get: () => {
        const value = JSON.parse(sessionStorage.getItem(key) || "null");
        return value && value.expires_at > Date.now() ? value : null;
      },
      set: (value) => sessionStorage.setItem(key, JSON.stringify(value)),
      clear: () => sessionStorage.removeItem(key),
    };
  }

  let currentSession = null;
  let onUnauthorized = () => {};

  /** Call our API; resolves to the parsed JSON, rejects with an ApiError. */
  async function api(path, { method = "GET", query, json, form, headers = {} } = {}) {
    const url = new URL(config.api + path, location.origin);
    for (const [k, v] of Object.entries(query || {})) {
      if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
    }
    const init = { method, headers: { Accept: "application/json", ...headers } };
    const token = currentSession && currentSession.get();
    if (token) init.headers.Authorization = `Bearer ${token.token}`;
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (form) {
      init.body = form;
    }
    const response = await fetch(url, init);
    const date = Date.parse(response.headers.get("Date"));
    if (!Number.isNaN(date)) serverOffsetMs = date - Date.now();
    if (response.headers.get("Content-Type")?.startsWith("text/csv")) return response.blob();
    const body = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = new ApiError(response.status, body);
      if (response.status === 401 && token) onUnauthorized(error);
      throw error;
    }
    return body;
  }

  /** Create an element: el("td", {class: "num"}, "12"); text children are never parsed as HTML. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const $ = (selector, root = document) => root.querySelector(selector);

  function fmtNumber(value, digits = 3) {
    if (value === null || value === undefined || value === "") return "—";
    if (typeof value !== "number") return String(value);
    return value.toLocaleString("zh-CN", { maximumFractionDigits: digits });
  }

  const timeFormat = new Intl.DateTimeFormat("zh-CN", {
    timeZone: config.timezone, month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false,
  });
  const fmtTime = (iso) => (iso ? timeFormat.format(new Date(iso)) : "—");

  /** "+08:00": the configured zone's offset on a local date (YYYY-MM-DD). */
  function zoneOffset(localDate) {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: config.timezone, timeZoneName: "longOffset",
    }).formatToParts(new Date(`${localDate}T12:00:00Z`));
    const name = parts.find((p) => p.type === "timeZoneName").value; // "GMT+08:00" or "GMT"
    return name === "GMT" ? "+00:00" : name.slice(3);
  }

  /** Seconds until an ISO time, by the server's clock. */
  const secondsUntil = (iso) => (Date.parse(iso) - (Date.now() + serverOffsetMs)) / 1000;

  function fmtCountdown(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const pad = (n) => String(n).padStart(2, "0");
    return s >= 3600
      ? `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
      : `${pad(Math.floor(s / 60))}:${pad(s % 60)}`;
  }

  /** Brief message at the top of the page (errors stay until replaced). */
  function notice(text, kind = "info") {
    const box = $("#notice");
    box.textContent = text;
    box.className = `notice ${kind}`;
    box.hidden = !text;
    clearTimeout(notice.timer);
    if (kind !== "error") notice.timer = setTimeout(() => (box.hidden = true), 3000);
  }

  /**
   * Wire the sign-in form: POST /auth/staff-login, keep the token, call onSignedIn.
   * `check(token)` returns a message when this account may not use this view.
   */
  function signIn({ storageKey, check, onSignedIn }) {
    currentSession = session(storageKey);
    const section = $("#signin");
    const form = $("#signin-form");
    const error = $("#signin-error");
    const show = () => {
      currentSession.clear();
      section.hidden = false;
      $("#app").hidden = true;
    };
    onUnauthorized = (e) => {
      show();
      error.textContent = e.message || "登录已过期，请重新登录";
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const data = Object.fromEntries(new FormData(form));
      try {
        const token = await api("/auth/staff-login", { method: "POST", json: data });
        const refusal = check(token);
        if (refusal) throw new Error(refusal);
        currentSession.set({ ...token, expires_at: Date.now() + token.expires_in * 1000 });
        form.reset();
        start();
      } catch (e) {
        error.textContent = e.message;
      }
    });
    $("#signout")?.addEventListener("click", () => {
      show();
      error.textContent = "";
    });
    const start = () => {
      section.hidden = true;
      $("#app").hidden = false;
      onSignedIn(currentSession.get());
    };
    if (currentSession.get()) start();
    else show();
  }

  return {
    config, api, el, $, fmtNumber, fmtTime, fmtCountdown, zoneOffset, secondsUntil,
    notice, signIn, ApiError,
  };
})();
