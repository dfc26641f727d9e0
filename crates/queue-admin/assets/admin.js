// queue admin: live counts and charts, relative times, and the action buttons.
// Data from the server is only ever written with textContent or attributes, never as HTML.
(function () {
  "use strict";

  const meta = (name) => {
    const el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : "";
  };
  const ROOT = meta("queue-admin-root");
  const QUEUE = meta("queue-admin-queue");
  const CSRF = meta("csrf-token");
  const VIEW = document.body.dataset.view;
  const POLL_MS = 2000;
  const HISTORY_MS = 5 * 60 * 1000;
  const FINAL = ["completed", "failed", "cancelled"];

  // A URL relative to the router's root, with the queue parameter. Credentials typed into
  // the address bar (http://user:token@host/) stay out: fetch refuses URLs holding them,
  // and the browser sends the cached ones anyway.
  function apiUrl(path) {
    const url = new URL(ROOT + path, document.baseURI);
    url.username = "";
    url.password = "";
    if (QUEUE) url.searchParams.set("queue", QUEUE);
    return url;
  }

  async function call(method, path, json) {
    const headers = { "x-csrf-token": CSRF, accept: "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (json !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(json);
    }
    const res = await fetch(apiUrl(path), init);
    let body = null;
    try {
      body = await res.json();
    } catch (_) {
      body = null;
    }
    if (!res.ok) {
      const msg = body && body.error ? body.error.message : res.status + " " + res.statusText;
      throw new Error(msg);
    }
    return body;
  }

  // Toast

  let toastTimer = 0;
  function toast(text, isError) {
    const el = document.querySelector("[data-toast]");
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("error", !!isError);
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, isError ? 8000 : 4000);
  }

  // Remember a message across the reload an action ends with.
  function toastAfterReload(text) {
    try { sessionStorage.setItem("queue-admin:toast", text); } catch (_) { /* private mode */ }
  }
  function showPendingToast() {
    try {
      const text = sessionStorage.getItem("queue-admin:toast");
      if (text) {
        sessionStorage.removeItem("queue-admin:toast");
        toast(text, false);
      }
    } catch (_) { /* private mode */ }
  }

  // Relative times

  function span(secs) {
    secs = Math.max(0, secs);
    if (secs < 10) {
      const t = Math.round(secs * 10) / 10;
      return (Number.isInteger(t) ? t.toFixed(0) : t.toFixed(1)) + " s";
    }
    if (secs < 60) return Math.floor(secs) + " s";
    if (secs < 3600) return Math.floor(secs / 60) + " min";
    if (secs < 86400) return Math.floor(secs / 3600) + " h";
    return Math.floor(secs / 86400) + " d";
  }

  function relative(date) {
    const secs = (date.getTime() - Date.now()) / 1000;
    if (Math.abs(secs) < 1) return "just now";
    const whole = Math.floor(Math.abs(secs));
    return secs > 0 ? "in " + span(whole) : span(whole) + " ago";
  }

  function refreshTimes() {
    for (const el of document.querySelectorAll("time[datetime]")) {
      const date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) continue;
      el.textContent = relative(date);
      if (!el.dataset.exact) {
        el.dataset.exact = "1";
        el.title = date.toLocaleString() + " (" + el.title + ")";
      }
    }
  }

  // Live indicator

  function live(ok) {
    const el = document.querySelector("[data-live]");
    if (!el) return;
    el.hidden = false;
    el.classList.toggle("offline", !ok);
    el.querySelector("[data-live-text]").textContent = ok ? "live" : "offline";
    el.title = ok ? "Updated every 2 s" : "The stats could not be fetched";
  }

  // Stats and sparklines

  const historyKey = "queue-admin:history:" + location.pathname + ":" + QUEUE;

  function loadHistory() {
    try {
      const raw = JSON.parse(sessionStorage.getItem(historyKey) || "[]");
      return Array.isArray(raw) ? raw : [];
    } catch (_) {
      return [];
    }
  }

  function saveHistory(points) {
    try { sessionStorage.setItem(historyKey, JSON.stringify(points)); } catch (_) { /* full */ }
  }

  let history = loadHistory();
  let lastCounts = null;

  function record(stats) {
    const t = Date.now();
    const finished = stats.completed + stats.failed + stats.cancelled;
    const prev = history[history.length - 1];
    let rate = null;
    if (prev && t > prev.t) {
      // Retention and purges make the totals drop; a drop is no negative throughput.
      rate = Math.max(0, (finished - prev.finished) / ((t - prev.t) / 1000));
    }
    history.push({ t, finished, pending: stats.pending, rate });
    history = history.filter((p) => p.t >= t - HISTORY_MS);
    saveHistory(history);
  }

  const SVG = "http://www.w3.org/2000/svg";

  function drawSpark(figure, key) {
    const svg = figure.querySelector("svg");
    const note = figure.querySelector("[data-chart-note]");
    const now = Date.now();
    const pts = history.filter((p) => p[key] !== null && p[key] !== undefined);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    if (pts.length < 2) {
      note.textContent = "collecting…";
      return;
    }
    const W = 300, H = 48, PAD = 3;
    const max = Math.max(1, ...pts.map((p) => p[key]));
    // The chart spans the history it has (up to five minutes), so a fresh page draws across
    // its width rather than as a sliver at the right edge.
    const end = pts[pts.length - 1].t;
    const span = Math.max(1, end - pts[0].t);
    const x = (t) => ((t - pts[0].t) / span) * W;
    // Headroom above the highest point, so a steady line does not run along the top.
    const y = (v) => H - PAD - (v / (max * 1.2)) * (H - 2 * PAD);
    const coords = pts.map((p) => x(p.t).toFixed(1) + "," + y(p[key]).toFixed(1));
    const area = document.createElementNS(SVG, "path");
    area.setAttribute("class", "area");
    area.setAttribute(
      "d",
      "M" + x(pts[0].t).toFixed(1) + "," + H + " L" + coords.join(" L") +
        " L" + x(pts[pts.length - 1].t).toFixed(1) + "," + H + " Z"
    );
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("class", "line");
    line.setAttribute("points", coords.join(" "));
    svg.appendChild(area);
    svg.appendChild(line);
    const seconds = Math.round((now - pts[0].t) / 1000);
    const window = seconds < 90 ? seconds + " s" : Math.round(seconds / 60) + " min";
    note.textContent = "last " + window + " · max " + formatNumber(max, key === "rate");
  }

  function formatNumber(v, fractional) {
    if (fractional && v < 10) return (Math.round(v * 10) / 10).toString();
    return Math.round(v).toLocaleString();
  }

  function showStats(stats) {
    for (const state of ["pending", "running", "completed", "failed", "cancelled"]) {
      for (const el of document.querySelectorAll('[data-count="' + state + '"]')) {
        el.textContent = String(stats[state]);
      }
    }
    const lag = document.querySelector('[data-stat="lag"]');
    if (lag) {
      lag.textContent = span(stats.lag_seconds);
      lag.title = stats.oldest_due
        ? "The oldest due job fell due at " + new Date(stats.oldest_due).toLocaleString()
        : "No job is waiting";
    }
    const last = history[history.length - 1];
    const rate = document.querySelector('[data-stat="rate"]');
    if (rate) rate.textContent = last && last.rate !== null ? formatNumber(last.rate, true) : "–";
    const pending = document.querySelector('[data-stat="pending"]');
    if (pending) pending.textContent = stats.pending.toLocaleString();
    for (const fig of document.querySelectorAll("[data-chart]")) drawSpark(fig, fig.dataset.chart);

    // The list below is as of the page load; say so once the counts move on.
    const key = [stats.pending, stats.running, stats.completed, stats.failed, stats.cancelled].join();
    if (lastCounts !== null && key !== lastCounts) {
      const hint = document.querySelector("[data-refresh-hint]");
      if (hint && !hint.firstChild) {
        const a = document.createElement("a");
        a.href = location.href;
        a.textContent = "The counts changed: refresh the list";
        hint.appendChild(a);
      }
    }
    if (lastCounts === null) lastCounts = key;

    for (const l of stats.limits || []) {
      for (const [attr, value] of [["running", l.running], ["waiting", l.waiting]]) {
        for (const el of document.querySelectorAll("[data-limit-" + attr + "]")) {
          if (el.getAttribute("data-limit-" + attr) === l.kind) el.textContent = String(value);
        }
      }
    }
  }

  // "100/1m" as a limit's rate: {count: 100, period: 60000} (ms); null when empty.
  const UNIT_MS = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };
  function rateOf(text, name) {
    text = text.trim();
    if (!text) return null;
    const m = /^(\d+)\s*\/\s*(\d*)\s*(ms|s|m|h|d)$/.exec(text);
    if (!m) throw new Error(name + " must read COUNT/PERIOD, such as 100/1m or 5/1s");
    return { count: Number(m[1]), period: Number(m[2] || "1") * UNIT_MS[m[3]] };
  }

  // The limit a form spells: only the parts filled in.
  function limitOf(form) {
    const field = (name) => form.elements.namedItem(name).value.trim();
    const limit = {};
    for (const name of ["concurrency", "key_concurrency"]) {
      if (field(name)) limit[name] = Number(field(name));
    }
    for (const [name, label] of [["rate", "The rate"], ["key_rate", "The rate per key"]]) {
      const rate = rateOf(field(name), label);
      if (rate) limit[name] = rate;
    }
    return limit;
  }

  async function pollStats() {
    if (document.visibilityState === "visible") {
      try {
        const stats = await call("GET", "api/stats");
        record(stats);
        showStats(stats);
        live(true);
      } catch (_) {
        live(false);
      }
    }
    setTimeout(pollStats, POLL_MS);
  }

  // The job page reloads when its job changes state, so it always shows the server's view.

  async function pollJob(panel) {
    const id = panel.dataset.job;
    const shown = panel.dataset.state;
    if (document.visibilityState === "visible") {
      try {
        const job = await call("GET", "api/jobs/" + encodeURIComponent(id));
        live(true);
        if (job.state !== shown) {
          location.reload();
          return;
        }
      } catch (_) {
        live(false);
      }
    }
    setTimeout(() => pollJob(panel), POLL_MS);
  }

  // Actions

  async function runAction(button) {
    const confirmText = button.dataset.confirm;
    if (confirmText && !window.confirm(confirmText)) return;
    button.disabled = true;
    try {
      const body = await call(button.dataset.method || "POST", button.dataset.url);
      let text = button.dataset.done || "Done";
      if (button.dataset.bulk && body) {
        text = button.dataset.bulk + " " + body.count + (body.more ? " jobs; more remain" : " jobs");
      }
      afterAction(button.dataset.after || "reload", text);
    } catch (e) {
      toast(e.message, true);
      button.disabled = false;
    }
  }

  function afterAction(after, text) {
    toastAfterReload(text);
    if (after === "reload") {
      location.reload();
    } else {
      location.href = after;
    }
  }

  document.addEventListener("click", (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target) return;
    const button = target.closest("button[data-url]");
    if (button) {
      ev.preventDefault();
      runAction(button);
      return;
    }
    const copy = target.closest("button[data-copy]");
    if (copy) {
      const pre = copy.closest("section").querySelector("pre");
      if (!pre) return;
      const select = () => {
        // Plain http on another host has no clipboard API: select the text instead.
        window.getSelection().selectAllChildren(pre);
        toast("Selected: press Ctrl+C (⌘C) to copy", false);
      };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(pre.textContent).then(() => toast("Copied", false), select);
      } else {
        select();
      }
      return;
    }
    const row = target.closest("tr[data-href]");
    if (row && !target.closest("a, button") && !String(window.getSelection() || "")) {
      location.href = row.dataset.href;
    }
  });

  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.matches("[data-pause-form]")) {
      ev.preventDefault();
      const kind = form.elements.namedItem("kind").value.trim();
      if (!kind) return;
      try {
        await call("POST", "api/kinds/" + encodeURIComponent(kind) + "/pause");
        afterAction("reload", "Paused " + kind);
      } catch (e) {
        toast(e.message, true);
      }
    } else if (form.matches("[data-limit-form]")) {
      ev.preventDefault();
      const kind = form.elements.namedItem("kind").value.trim();
      if (!kind) return;
      try {
        const body = await call("PUT", "api/kinds/" + encodeURIComponent(kind) + "/limit", limitOf(form));
        afterAction("reload", "Set the limit of " + body.kind);
      } catch (e) {
        toast(e.message, true);
      }
    } else if (form.matches("[data-purge-form]")) {
      ev.preventDefault();
      const state = form.dataset.state;
      const select = form.elements.namedItem("older_than");
      const age = select.options[select.selectedIndex].textContent;
      if (!window.confirm("Delete up to 500 " + state + " jobs finished more than " + age + " ago?")) return;
      const path = "api/purge?state=" + encodeURIComponent(state) +
        "&older_than=" + encodeURIComponent(select.value);
      try {
        const body = await call("POST", path);
        afterAction("reload", "Purged " + body.count + (body.more ? " jobs; more remain" : " jobs"));
      } catch (e) {
        toast(e.message, true);
      }
    }
  });

  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }

  // Start

  showPendingToast();
  refreshTimes();
  setInterval(refreshTimes, 10000);
  if (VIEW === "dashboard") {
    for (const fig of document.querySelectorAll("[data-chart]")) drawSpark(fig, fig.dataset.chart);
    pollStats();
  }
  const panel = document.querySelector("[data-job]");
  if (panel && !FINAL.includes(panel.dataset.state)) {
    setTimeout(() => pollJob(panel), POLL_MS);
  }
})();
