// Provisioner console: a small single-page app over the admin API (/admin/v1). Plain
// JavaScript, no build step, no dependencies; every page is rendered from API responses with
// DOM calls (never HTML strings), so nothing a user or a target returns is interpreted as markup.
"use strict";

const API = "/admin/v1";

// Every admin API path the console calls, as templates: `{name}` is filled in (URL-encoded) by
// `path()`. The server's tests check each template against the OpenAPI document.
const PATHS = {
  session: "/session",
  whoami: "/whoami",
  tenants: "/tenants",
  tenant: "/tenants/{tenant}",
  targets: "/tenants/{tenant}/targets",
  target: "/tenants/{tenant}/targets/{target}",
  targetValidate: "/tenants/{tenant}/targets/{target}/validate",
  targetPause: "/tenants/{tenant}/targets/{target}/pause",
  targetResume: "/tenants/{tenant}/targets/{target}/resume",
  secrets: "/tenants/{tenant}/targets/{target}/secrets",
  secret: "/tenants/{tenant}/targets/{target}/secrets/{key}",
  reconcile: "/tenants/{tenant}/targets/{target}/reconcile",
  reconciliations: "/tenants/{tenant}/targets/{target}/reconciliations",
  reconciliation: "/tenants/{tenant}/targets/{target}/reconciliations/{id}",
  jobs: "/tenants/{tenant}/jobs",
  deadLetters: "/tenants/{tenant}/dead-letters",
  replay: "/tenants/{tenant}/dead-letters/replay",
  users: "/tenants/{tenant}/users",
  user: "/tenants/{tenant}/users/{id}",
  userLog: "/tenants/{tenant}/users/{id}/log",
  explain: "/tenants/{tenant}/users/{id}/explain",
  provision: "/tenants/{tenant}/users/{id}/provision",
  groups: "/tenants/{tenant}/groups",
  group: "/tenants/{tenant}/groups/{id}",
  log: "/tenants/{tenant}/log",
};

const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";

const state = { me: null, tenant: null, tenants: [], seq: 0 };

// ---------------------------------------------------------------------------------------------
// Helpers

/** The admin API path `name` with its `{placeholders}` filled from `params` and `query` added. */
function path(name, params = {}, query = {}) {
  const template = PATHS[name];
  if (!template) throw new Error(`unknown API path ${name}`);
  const filled = template.replace(/\{(\w+)\}/g, (_, key) => {
    const value = key === "tenant" && params.tenant === undefined ? state.tenant : params[key];
    if (value === undefined || value === null) throw new Error(`path ${name} needs ${key}`);
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, value);
  }
  const qs = search.toString();
  return API + filled + (qs ? `?${qs}` : "");
}

/** An error the admin API answered with: its HTTP status, code, message and any problems. */
class ApiError extends Error {
  constructor(status, body) {
    const message = (body && (body.message || body.detail)) || `HTTP ${status}`;
    super(message);
    this.status = status;
    this.code = body && body.error;
    this.problems = (body && body.problems) || [];
  }
}

/** Calls the admin API; JSON in and out. A 401 sends the user to the login page. */
async function api(method, url, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (_) {
      data = { message: text };
    }
  }
  if (response.status === 401 && !url.endsWith(PATHS.session)) {
    state.me = null;
    showChrome(false);
    location.hash = "#/login";
    const error = new ApiError(401, data || { message: "log in again" });
    error.sentToLogin = true;
    throw error;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Builds an element: `h("td", {class: "num"}, "3")`; strings become text nodes. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces the children of `el`, skipping absent ones (`null`, `undefined`, `false`). */
function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

/** Items of a list response, whatever its envelope. */
function items(data) {
  if (Array.isArray(data)) return data;
  if (!data) return [];
  for (const key of ["items", "Resources", "entries", "jobs", "targets", "tenants", "dead_letters", "reconciliations", "attempts"]) {
    if (Array.isArray(data[key])) return data[key];
  }
  return [];
}

function fmtTime(value) {
  if (value === undefined || value === null || value === "") return "";
  const date = typeof value === "number" ? new Date(value) : new Date(String(value));
  return isNaN(date) ? String(value) : date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function flash(message, kind = "ok") {
  const el = document.getElementById("flash");
  el.textContent = message;
  el.dataset.kind = kind;
  el.hidden = false;
}

function clearFlash() {
  const el = document.getElementById("flash");
  el.hidden = true;
  el.textContent = "";
}

/** Runs `action`, showing its error in the flash area instead of throwing. */
async function guard(action) {
  try {
    return await action();
  } catch (error) {
    if (!error.sentToLogin) flash(error.message, "error");
    return undefined;
  }
}

/** A rendered page: its title and content, shown by `route()` if still current. */
function page(title, ...content) {
  return { title, content };
}

function field(id, label, input) {
  input.id = id;
  return h("div", { class: input.type === "checkbox" ? "field check" : "field" }, h("label", { for: id }, label), input);
}

function table(id, headers, rows, empty = "Nothing here.") {
  if (!rows.length) return h("p", { id, class: "muted", "data-empty": true }, empty);
  return h("table", { id }, h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows));
}

function badge(text, kind) {
  return h("span", { class: `badge ${kind || ""}` }, text);
}

// Outcomes of calls (`ok`, `found`, `absent` or an error case such as `invalid_data`) and
// states of jobs, as badges.
const GOOD = ["ok", "found", "done", "success"];
const NEUTRAL = ["absent", "pending", "running", "coalesced", "superseded", "queued"];

function outcomeBadge(outcome) {
  const o = String(outcome || "").toLowerCase();
  return badge(outcome || "?", GOOD.includes(o) ? "ok" : NEUTRAL.includes(o) ? "" : "bad");
}

function pretty(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch (_) {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

function targetName(t) {
  return (t && (t.name || (t.spec && t.spec.name))) || "";
}

function tenantName(t) {
  return typeof t === "string" ? t : t.name || t.tenant || t.id;
}

function userEmail(user) {
  const emails = user.emails || [];
  const primary = emails.find((e) => e.primary) || emails[0];
  return primary ? primary.value || primary : "";
}

function userRoles(user) {
  return (user.roles || []).map((r) => r.value || r).filter(Boolean);
}

// ---------------------------------------------------------------------------------------------
// Session and chrome

function showChrome(on) {
  document.getElementById("nav").hidden = !on;
  document.getElementById("session").hidden = !on;
}

async function loadSession() {
  state.me = await api("GET", path("whoami"));
  state.tenants = items(await api("GET", path("tenants"))).map(tenantName);
  const saved = localStorage.getItem("provisioner.tenant");
  state.tenant = state.me.tenant || (state.tenants.includes(saved) ? saved : state.tenants[0]) || null;
  const select = document.getElementById("tenant-select");
  select.replaceChildren(...state.tenants.map((t) => h("option", { value: t, selected: t === state.tenant }, t)));
  select.disabled = state.tenants.length < 2;
  const who = document.getElementById("whoami");
  who.textContent = state.me.username;
  who.title = state.me.tenant ? `administrator of ${state.me.tenant}` : "server administrator";
  showChrome(true);
}

function loginPage() {
  showChrome(false);
  const username = h("input", { name: "username", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    { id: "login-form", "aria-label": "Log in" },
    field("login-username", "User name", username),
    field("login-password", "Password", password),
    h("button", { type: "submit", id: "login-submit" }, "Log in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ok = await guard(async () => {
      await api("POST", path("session"), { username: username.value, password: password.value });
      await loadSession();
      return true;
    });
    if (ok) {
      clearFlash();
      location.hash = "#/";
    }
  });
  const main = document.getElementById("main");
  main.replaceChildren(h("section", { class: "login panel" }, h("h1", {}, "Log in"), h("p", { class: "muted" }, "Administrators of this server or of one tenant."), form));
  main.dataset.route = "login";
  state.seq++;
  username.focus();
}

async function logout() {
  await guard(() => api("DELETE", path("session")));
  state.me = null;
  showChrome(false);
  location.hash = "#/login";
}

// ---------------------------------------------------------------------------------------------
// Overview: tenant counts, targets with their state

function targetState(t) {
  if (t.paused && t.probing) return badge("probing", "warn");
  if (t.paused) return badge(t.paused_until ? "circuit open" : "paused", t.paused_until ? "warn" : "bad");
  if (t.circuit_opens) return badge(`recovering (${t.circuit_opens})`, "warn");
  return badge("active", "ok");
}

function countCards(id, counts) {
  const labels = [
    ["users", "Users"],
    ["groups", "Groups"],
    ["targets", "Targets"],
    ["open_jobs", "Open jobs"],
    ["dead_letters", "Dead letters"],
  ];
  return h(
    "div",
    { class: "cards", id },
    labels.map(([key, label]) => h("div", { class: "card", "data-count": key }, h("div", { class: "value" }, counts[key] ?? "–"), h("div", { class: "label" }, label))),
  );
}

async function overviewPage() {
  const [tenant, targets, dead, pending, running] = await Promise.all([
    api("GET", path("tenant")),
    api("GET", path("targets")),
    api("GET", path("deadLetters")),
    api("GET", path("jobs", {}, { state: "pending", limit: 1000 })),
    api("GET", path("jobs", {}, { state: "running", limit: 1000 })),
  ]);
  const counts = tenant.counts || tenant;
  const perTarget = (jobs) => items(jobs).reduce((acc, j) => acc.set(j.target, (acc.get(j.target) || 0) + 1), new Map());
  const deadBy = perTarget(dead);
  const openBy = perTarget([...items(pending), ...items(running)]);
  const rows = items(targets).map((t) => {
    const name = targetName(t);
    t.open_jobs = t.open_jobs ?? openBy.get(name) ?? 0;
    t.dead_letters = t.dead_letters ?? deadBy.get(name) ?? 0;
    const paused = !!t.paused;
    return h(
      "tr",
      { "data-target": name },
      h("td", {}, h("a", { href: `#/targets/${encodeURIComponent(name)}` }, name)),
      h("td", {}, h("code", {}, (t.spec || t).connector || "")),
      h("td", {}, targetState(t), t.pause_reason ? h("div", { class: "muted" }, t.pause_reason) : null),
      h("td", { class: "num" }, t.open_jobs ?? ""),
      h("td", { class: "num" }, t.dead_letters ? h("a", { href: `#/dead-letters?target=${encodeURIComponent(name)}` }, t.dead_letters) : 0),
      h(
        "td",
        {},
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            "data-action": paused ? "resume" : "pause",
            onclick: () => guard(async () => {
              await api("POST", path(paused ? "targetResume" : "targetPause", { target: name }));
              flash(`${name} ${paused ? "resumed" : "paused"}`);
              route();
            }),
          },
          paused ? "Resume" : "Pause",
        ),
      ),
    );
  });
  return page(
    `Tenant ${state.tenant}`,
    countCards("tenant-counts", counts),
    h("h2", {}, "Targets"),
    table("targets-table", ["Target", "Connector", "State", "Open jobs", "Dead letters", ""], rows, "No targets."),
  );
}

// ---------------------------------------------------------------------------------------------
// Users and groups

function userForm(user, onSave) {
  const isNew = !user.id;
  const inputs = {
    userName: h("input", { value: user.userName || "", required: true, autocomplete: "off" }),
    password: h("input", { type: "password", autocomplete: "new-password", required: isNew }),
    givenName: h("input", { value: (user.name && user.name.givenName) || "" }),
    familyName: h("input", { value: (user.name && user.name.familyName) || "" }),
    email: h("input", { type: "email", value: userEmail(user) }),
    roles: h("input", { value: userRoles(user).join(", "), placeholder: "comma-separated" }),
    active: h("input", { type: "checkbox", checked: user.active !== false }),
  };
  const form = h(
    "form",
    { class: "grid", id: "user-form", "aria-label": isNew ? "Add a user" : "Edit the user" },
    field("user-userName", "User name", inputs.userName),
    field("user-password", isNew ? "Password" : "New password (optional)", inputs.password),
    field("user-givenName", "Given name", inputs.givenName),
    field("user-familyName", "Family name", inputs.familyName),
    field("user-email", "Email", inputs.email),
    field("user-roles", "Roles", inputs.roles),
    field("user-active", "Active", inputs.active),
    h("button", { type: "submit", id: "user-save" }, isNew ? "Add user" : "Save"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = Object.assign({}, user);
    delete body.meta;
    delete body.groups;
    body.schemas = body.schemas || [USER_SCHEMA];
    body.userName = inputs.userName.value.trim();
    if (inputs.password.value) body.password = inputs.password.value;
    body.name = Object.assign({}, user.name, { givenName: inputs.givenName.value || undefined, familyName: inputs.familyName.value || undefined });
    const email = inputs.email.value.trim();
    body.emails = email ? [{ value: email, primary: true, type: "work" }] : [];
    body.roles = inputs.roles.value.split(",").map((r) => r.trim()).filter(Boolean).map((value) => ({ value }));
    body.active = inputs.active.checked;
    guard(() => onSave(body));
  });
  return form;
}

function usersFilter(text) {
  const t = text.trim();
  if (!t) return "";
  if (/\s(eq|ne|co|sw|ew|pr|gt|ge|lt|le)(\s|$)/i.test(t)) return t;
  return `userName sw "${t.replace(/["\\]/g, "\\$&")}"`;
}

async function usersPage(query) {
  const search = h("input", { type: "search", value: query.q || "", placeholder: "user name, or a SCIM filter" });
  const searchForm = h("form", { class: "inline", id: "users-search", role: "search" }, field("users-q", "Search", search), h("button", { type: "submit" }, "Search"));
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/users?q=${encodeURIComponent(search.value)}`;
  });
  const list = await api("GET", path("users", {}, { filter: usersFilter(query.q || ""), count: 100 }));
  const rows = items(list).map((u) =>
    h(
      "tr",
      { "data-user-name": u.userName, "data-user-id": u.id },
      h("td", {}, h("a", { href: `#/users/${encodeURIComponent(u.id)}` }, u.userName)),
      h("td", {}, [u.name && u.name.givenName, u.name && u.name.familyName].filter(Boolean).join(" ")),
      h("td", {}, userEmail(u)),
      h("td", {}, userRoles(u).join(", ")),
      h("td", {}, u.active === false ? badge("inactive", "warn") : badge("active", "ok")),
    ),
  );
  const add = userForm({}, async (body) => {
    const created = await api("POST", path("users"), body);
    flash(`User ${created.userName} added`);
    location.hash = `#/users/${encodeURIComponent(created.id)}`;
  });
  return page(
    "Users",
    searchForm,
    h("p", { class: "muted", id: "users-total" }, `${list.totalResults ?? items(list).length} user(s)`),
    table("users-table", ["User name", "Name", "Email", "Roles", "State"], rows, "No users match."),
    h("h2", {}, "Add a user"),
    h("div", { class: "panel" }, add),
  );
}

function logTable(id, entries) {
  const rows = entries.map((e) =>
    h(
      "tr",
      { "data-attempt-id": e.attempt_id, "data-job-id": e.job_id, "data-outcome": e.outcome, "data-user-name": e.user_name },
      h("td", {}, fmtTime(e.time)),
      h("td", {}, e.entity_id ? h("a", { href: `#/users/${encodeURIComponent(e.entity_id)}` }, e.user_name || e.entity_id) : e.user_name),
      h("td", {}, e.target),
      h("td", {}, e.operation, e.call && e.call !== e.operation ? h("div", { class: "muted" }, e.call) : null),
      h("td", {}, outcomeBadge(e.outcome)),
      h("td", {}, e.target_code ? h("code", {}, e.target_code) : "", e.message ? h("div", {}, e.message) : null),
      h("td", {}, e.remote_id ? h("code", {}, e.remote_id) : ""),
      h("td", { class: "num" }, e.duration_ms ?? ""),
      h("td", {}, e.fields && Object.keys(e.fields).length ? h("details", {}, h("summary", {}, `${Object.keys(e.fields).length} fields`), h("pre", {}, pretty(e.fields))) : ""),
      h("td", {}, e.request_id ? h("a", { href: `#/log?${new URLSearchParams({ request: e.request_id })}`, title: `request ${e.request_id}: every call it caused` }, h("code", {}, e.request_id.slice(0, 8))) : ""),
    ),
  );
  return table(id, ["Time", "User", "Target", "Operation", "Outcome", "Target code / message", "Remote id", "ms", "Fields", "Request"], rows, "No attempts.");
}

async function userPage(id) {
  const [user, targets] = await Promise.all([api("GET", path("user", { id })), api("GET", path("targets"))]);
  const log = await guard(() => api("GET", path("userLog", { id }, { limit: 50 })));
  const jobs = await guard(() => api("GET", path("jobs", {}, { entity: id, limit: 20 })));
  const form = userForm(user, async (body) => {
    await api("PUT", path("user", { id }), body);
    flash(`User ${body.userName} saved`);
    route();
  });
  const targetSelect = h("select", {}, items(targets).map((t) => h("option", { value: targetName(t) }, targetName(t))));
  const explainBox = h("section", { id: "explain", "aria-label": "Explain" });
  const provisionBox = h("section", { id: "provision-result", "aria-live": "polite" });
  const actions = h(
    "div",
    { class: "actions" },
    h("button", { type: "button", class: "secondary", id: "user-deactivate", onclick: () => guard(async () => {
      await api("PATCH", path("user", { id }), { active: false });
      flash(`User ${user.userName} deactivated`);
      route();
    }) }, "Deactivate"),
    h("button", { type: "button", class: "danger", id: "user-delete", onclick: () => guard(async () => {
      if (!confirm(`Delete ${user.userName}? Targets deprovision it.`)) return;
      await api("DELETE", path("user", { id }));
      flash(`User ${user.userName} deleted`);
      location.hash = "#/users";
    }) }, "Delete"),
  );
  const explainForm = h(
    "form",
    { class: "inline", id: "explain-form" },
    field("explain-target", "Target", targetSelect),
    h("button", { type: "submit", id: "explain-run" }, "Explain"),
    h("button", { type: "button", class: "secondary", id: "provision-now", onclick: () => guard(async () => {
      const result = await api("POST", path("provision", { id }, { target: targetSelect.value }));
      renderProvision(provisionBox, result);
      flash(`Provisioned ${user.userName} to ${targetSelect.value}`);
    }) }, "Provision now"),
  );
  explainForm.addEventListener("submit", (event) => {
    event.preventDefault();
    guard(async () => renderExplain(explainBox, await api("GET", path("explain", { id }, { target: targetSelect.value }))));
  });
  return page(
    `User ${user.userName}`,
    h("p", {}, user.active === false ? badge("inactive", "warn") : badge("active", "ok"), " ", h("span", { class: "muted" }, `id ${user.id}`)),
    h("div", { class: "panel" }, form, actions),
    h("h2", {}, "Explain and provision"),
    h("div", { class: "panel" }, explainForm, explainBox, provisionBox),
    h("h2", {}, "Jobs"),
    jobsTable("user-jobs", items(jobs)),
    h("h2", {}, "Provisioning log"),
    logTable("user-log", items(log)),
  );
}

function renderExplain(box, x) {
  const scope = x.scope || {};
  const roles = scope.roles || {};
  const filter = scope.filter || {};
  const fieldRows = (x.fields || []).map((f) =>
    h(
      "tr",
      { "data-field": f.field, "data-source": f.source, "data-connector": f.connector ? "differs" : "same" },
      h("td", {}, h("code", {}, f.field)),
      h("td", {}, f.value ?? f.sent ?? h("span", { class: "muted" }, "no value"), f.connector ? h("div", { class: "connector-note" }, f.connector) : null),
      h("td", {}, badge(f.source, f.source === "claim" ? "ok" : f.source === "unset" ? "bad" : "")),
      h("td", {}, f.claim ? h("code", {}, f.claim) : ""),
      h("td", {}, f.default_value ?? ""),
    ),
  );
  const requests = (x.requests || []).map((r, i) =>
    h(
      "div",
      { class: "request", "data-request": i },
      h("h4", {}, r.kind && r.kind !== "api" ? badge(r.kind) : null, " ", h("code", {}, `${r.method} ${r.url}`)),
      r.headers && Object.keys(r.headers).length ? h("pre", { class: "headers" }, Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`).join("\n")) : null,
      r.body !== undefined && r.body !== null ? h("pre", { class: "body", "data-request-body": i }, pretty(r.body)) : null,
    ),
  );
  fill(
    box,
    h("h3", {}, `Explain for ${x.target}`),
    h(
      "dl",
      { id: "explain-scope" },
      h("dt", {}, "In scope"),
      h("dd", { "data-in-scope": String(!!x.in_scope) }, x.in_scope ? badge("yes", "ok") : badge("no", "bad")),
      h("dt", {}, "Roles"),
      h("dd", {}, `required: ${(roles.required || []).join(", ") || "none"}; held: ${(roles.held || []).join(", ") || "none"}; `, roles.matched === false ? badge("no match", "bad") : badge("matched", "ok")),
      h("dt", {}, "Filter"),
      h("dd", {}, filter.expression ? h("code", {}, typeof filter.expression === "string" ? filter.expression : JSON.stringify(filter.expression)) : "none", " ", filter.matched === false ? badge("no match", "bad") : badge("matched", "ok")),
      h("dt", {}, "Operation"),
      h("dd", { id: "explain-operation" }, x.operation || "none", x.remote_id ? h("span", { class: "muted" }, ` (remote id ${x.remote_id})`) : null),
      x.dry_run_outcome ? [h("dt", {}, "Dry run"), h("dd", { id: "explain-outcome" }, x.dry_run_outcome)] : null,
    ),
    table("explain-fields", ["Field", "Value (and what the connector did)", "Source", "Claim", "Default"], fieldRows, "No mapped fields."),
    h("h3", {}, "Requests the connector would send"),
    h("div", { id: "explain-requests" }, requests.length ? requests : h("p", { class: "muted" }, "None.")),
    (x.notes || []).length ? h("ul", { id: "explain-notes" }, x.notes.map((n) => h("li", {}, n))) : null,
  );
}

function renderProvision(box, result) {
  const attempts = items(result).length ? items(result) : [result];
  fill(
    box,
    h("h3", {}, "Provision now"),
    result.job_id ? h("p", { id: "provision-job", "data-state": result.state }, `Job ${result.job_id}: `, outcomeBadge(result.state), result.remote_id ? ` remote id ${result.remote_id}` : "") : null,
    table(
      "provision-attempts",
      ["Operation", "Outcome", "Target code / message", "Remote id"],
      attempts.map((a) =>
        h(
          "tr",
          { "data-outcome": a.outcome },
          h("td", {}, a.operation || a.call || ""),
          h("td", {}, outcomeBadge(a.outcome)),
          h("td", {}, a.target_code ? h("code", {}, a.target_code) : "", a.message ? h("div", {}, a.message) : null),
          h("td", {}, a.remote_id ? h("code", {}, a.remote_id) : ""),
        ),
      ),
    ),
  );
}

async function groupsPage() {
  const list = await api("GET", path("groups", {}, { count: 200 }));
  const rows = items(list).map((g) =>
    h(
      "tr",
      { "data-group": g.displayName, "data-group-id": g.id },
      h("td", {}, g.displayName),
      h("td", {}, (g.members || []).map((m) => m.display || m.value).join(", ")),
      h(
        "td",
        {},
        h("button", { type: "button", class: "danger", "data-action": "delete", onclick: () => guard(async () => {
          if (!confirm(`Delete group ${g.displayName}?`)) return;
          await api("DELETE", path("group", { id: g.id }));
          flash(`Group ${g.displayName} deleted`);
          route();
        }) }, "Delete"),
      ),
    ),
  );
  const name = h("input", { required: true });
  const members = h("input", { placeholder: "user names, comma-separated" });
  const form = h("form", { class: "inline", id: "group-form", "aria-label": "Add a group" }, field("group-displayName", "Name", name), field("group-members", "Members", members), h("button", { type: "submit", id: "group-save" }, "Add group"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guard(async () => {
      const wanted = members.value.split(",").map((m) => m.trim()).filter(Boolean);
      const found = [];
      for (const userName of wanted) {
        const match = items(await api("GET", path("users", {}, { filter: `userName eq "${userName.replace(/["\\]/g, "\\$&")}"` })))[0];
        if (!match) throw new Error(`no user named ${userName}; add the user first`);
        found.push({ value: match.id, display: match.userName });
      }
      await api("POST", path("groups"), { schemas: [GROUP_SCHEMA], displayName: name.value.trim(), members: found });
      flash(`Group ${name.value.trim()} added`);
      route();
    });
  });
  return page("Groups", table("groups-table", ["Group", "Members", ""], rows, "No groups."), h("h2", {}, "Add a group"), h("div", { class: "panel" }, form));
}

// ---------------------------------------------------------------------------------------------
// Provisioning log, jobs, dead letters

async function logPage(query) {
  const targets = items(await api("GET", path("targets")));
  const user = h("input", { type: "search", value: query.user || "" });
  const target = h("select", {}, h("option", { value: "" }, "any"), targets.map((t) => h("option", { value: targetName(t), selected: targetName(t) === query.target }, targetName(t))));
  const outcome = h("input", { type: "search", value: query.outcome || "", list: "log-outcomes", placeholder: "any" });
  const outcomes = h("datalist", { id: "log-outcomes" }, ["ok", "found", "absent", "invalid_data", "conflict", "not_found", "auth", "transient", "rate_limited"].map((o) => h("option", { value: o })));
  const request = h("input", { type: "search", value: query.request || "", placeholder: "X-Request-Id" });
  const form = h("form", { class: "inline", id: "log-search", role: "search" }, field("log-user", "User", user), field("log-target", "Target", target), field("log-outcome", "Outcome", outcome), outcomes, field("log-request", "Request", request), h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const qs = new URLSearchParams({ user: user.value, target: target.value, outcome: outcome.value, request: request.value });
    location.hash = `#/log?${qs}`;
  });
  const entries = await api("GET", path("log", {}, { user: query.user, target: query.target, outcome: query.outcome, request: query.request, limit: 100 }));
  return page("Provisioning log", form, logTable("log-table", items(entries)));
}

function jobsTable(id, jobs, withReplay) {
  const rows = jobs.map((j) =>
    h(
      "tr",
      { "data-job-id": j.id, "data-entity-id": j.entity_id, "data-user-name": j.entity_name, "data-state": j.state },
      h("td", { class: "num" }, j.id),
      h("td", {}, fmtTime(j.updated_at || j.created_at)),
      h("td", {}, j.entity_kind === "group" ? j.entity_name : h("a", { href: `#/users/${encodeURIComponent(j.entity_id)}` }, j.entity_name || j.entity_id)),
      h("td", {}, j.target),
      h("td", {}, j.operation),
      h("td", {}, outcomeBadge(j.state)),
      h("td", {}, j.error ? [h("code", {}, j.error.code || j.error.kind), h("div", {}, j.error.message)] : ""),
      withReplay
        ? h("td", {}, h("button", { type: "button", class: "secondary", "data-action": "replay", onclick: () => replay({ job_ids: [j.id] }) }, "Replay"))
        : null,
    ),
  );
  const headers = ["Job", "Updated", "Entity", "Target", "Operation", "State", "Error"];
  return table(id, withReplay ? [...headers, ""] : headers, rows, "No jobs.");
}

async function replay(body) {
  await guard(async () => {
    const result = await api("POST", path("replay"), body);
    flash(`Replayed ${result.replayed} job(s)`);
    route();
  });
}

async function deadLettersPage(query) {
  const targets = items(await api("GET", path("targets")));
  const target = h("select", {}, h("option", { value: "" }, "any"), targets.map((t) => h("option", { value: targetName(t), selected: targetName(t) === query.target }, targetName(t))));
  const form = h("form", { class: "inline", id: "dead-letters-filter" }, field("dead-letters-target", "Target", target), h("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/dead-letters?target=${encodeURIComponent(target.value)}`;
  });
  const jobs = items(await api("GET", path("deadLetters", {}, { target: query.target })));
  return page(
    "Dead letters",
    form,
    h("div", { class: "actions" }, h("button", { type: "button", id: "replay-all", disabled: !jobs.length, onclick: () => replay(query.target ? { target: query.target } : { job_ids: jobs.map((j) => j.id) }) }, query.target ? `Replay all for ${query.target}` : "Replay all shown")),
    jobsTable("dead-letters-table", jobs, true),
  );
}

// ---------------------------------------------------------------------------------------------
// A target: configuration, state, reconciliation

function specOf(t) {
  const spec = t.spec || t;
  return {
    connector: spec.connector,
    properties: spec.properties || {},
    secret_refs: spec.secret_refs || {},
    claim_mappings: spec.claim_mappings || [],
    settings: spec.settings || {},
    egress: spec.egress || {},
  };
}

function propertyInput(value) {
  if (typeof value === "boolean") return h("select", {}, h("option", { value: "true", selected: value }, "true"), h("option", { value: "false", selected: !value }, "false"));
  return h("input", { value: value ?? "", "data-type": typeof value === "number" ? "number" : "text" });
}

function readProperty(input) {
  if (input.tagName === "SELECT") return input.value === "true";
  if (input.dataset.type === "number" && input.value !== "" && !isNaN(Number(input.value))) return Number(input.value);
  return input.value;
}

async function targetPage(name) {
  const t = await api("GET", path("target", { target: name }));
  const spec = specOf(t);
  const problemsBox = h("div", { id: "target-problems", "aria-live": "polite" });

  const propRows = Object.entries(spec.properties).map(([key, value]) => {
    const input = propertyInput(value);
    input.setAttribute("aria-label", key);
    input.dataset.property = key;
    return h("tr", { "data-property": key }, h("td", {}, h("code", {}, key)), h("td", {}, input));
  });
  const propBody = h("tbody", {}, propRows);
  const newKey = h("input", { id: "property-new-key", placeholder: "key", "aria-label": "New property key" });
  const newValue = h("input", { id: "property-new-value", placeholder: "value", "aria-label": "New property value" });
  const addProperty = h("button", { type: "button", class: "secondary", id: "property-add", onclick: () => {
    const key = newKey.value.trim();
    if (!key) return;
    const input = propertyInput(newValue.value);
    input.setAttribute("aria-label", key);
    input.dataset.property = key;
    propBody.append(h("tr", { "data-property": key }, h("td", {}, h("code", {}, key)), h("td", {}, input)));
    newKey.value = "";
    newValue.value = "";
  } }, "Add property");

  const mappingRow = (m) =>
    h(
      "tr",
      { "data-mapping": m.target_field || "" },
      h("td", {}, h("input", { value: m.target_field || "", "data-col": "target_field", "aria-label": "Target field" })),
      h("td", {}, h("input", { value: m.claim || "", "data-col": "claim", "aria-label": `Claim of ${m.target_field || "the field"}` })),
      h("td", {}, h("input", { value: m.default_value ?? "", "data-col": "default_value", "aria-label": `Default of ${m.target_field || "the field"}` })),
      h("td", {}, h("button", { type: "button", class: "danger", "aria-label": `Remove ${m.target_field || "row"}`, onclick: (e) => e.target.closest("tr").remove() }, "×")),
    );
  const mappingBody = h("tbody", {}, spec.claim_mappings.map(mappingRow));

  // Secrets are write-only: a value set here is stored sealed and referenced as `stored:<key>`.
  const secretRefs = Object.assign({}, spec.secret_refs);
  const stored = items(await guard(() => api("GET", path("secrets", { target: name }))));
  const secretRows = () =>
    Object.entries(secretRefs).map(([key, ref]) => h("tr", { "data-secret": key }, h("td", {}, h("code", {}, key)), h("td", {}, h("code", {}, ref)), h("td", {}, fmtTime((stored.find((x) => x.key === key) || {}).updated_at))));
  const secretBody = h("tbody", {}, secretRows());
  const secretKey = h("input", { id: "secret-key", placeholder: "key", "aria-label": "Secret key" });
  const secretValue = h("input", { id: "secret-value", type: "password", autocomplete: "off", placeholder: "value (never shown again)", "aria-label": "Secret value" });
  const setSecret = h("button", { type: "button", class: "secondary", id: "secret-set", onclick: () => guard(async () => {
    const key = secretKey.value.trim();
    if (!key || !secretValue.value) throw new Error("give the secret's key and value");
    await api("PUT", path("secret", { target: name, key }), { value: secretValue.value });
    secretRefs[key] = `stored:${key}`;
    secretBody.replaceChildren(...secretRows());
    secretKey.value = "";
    secretValue.value = "";
    flash(`Secret ${key} stored; save the target to use it`);
  }) }, "Store secret");

  const collect = () => {
    const body = specOf(t);
    body.secret_refs = Object.assign({}, secretRefs);
    body.properties = {};
    for (const input of propBody.querySelectorAll("[data-property]")) {
      if (input.tagName === "TR") continue;
      body.properties[input.dataset.property] = readProperty(input);
    }
    body.claim_mappings = [...mappingBody.querySelectorAll("tr")].map((tr) => {
      const get = (col) => tr.querySelector(`[data-col="${col}"]`).value.trim();
      return { target_field: get("target_field"), claim: get("claim") || null, default_value: get("default_value") || null };
    }).filter((m) => m.target_field);
    return body;
  };
  const showProblems = (error) => {
    const problems = (error && error.problems) || [];
    fill(
      problemsBox,
      h("p", {}, error ? error.message : "No problems."),
      problems.length ? h("ul", { class: "problems" }, problems.map((p) => h("li", {}, typeof p === "string" ? p : `${p.key ? p.key + ": " : ""}${p.message}`))) : null,
    );
  };

  const form = h(
    "form",
    { id: "target-form", "aria-label": `Configuration of ${name}` },
    h("p", {}, "Connector ", h("code", { id: "target-connector" }, spec.connector)),
    h("h3", {}, "Properties"),
    h("table", { id: "target-properties" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Key"), h("th", { scope: "col" }, "Value"))), propBody),
    h("div", { class: "actions" }, newKey, newValue, addProperty),
    h("h3", {}, "Secrets"),
    h("table", { id: "target-secrets" }, h("thead", {}, h("tr", {}, ["Key", "Reference", "Stored"].map((x) => h("th", { scope: "col" }, x)))), secretBody),
    h("div", { class: "actions" }, secretKey, secretValue, setSecret),
    h("h3", {}, "Claim mappings"),
    h("table", { id: "target-mappings" }, h("thead", {}, h("tr", {}, ["Target field", "Claim", "Default", ""].map((x) => h("th", { scope: "col" }, x)))), mappingBody),
    h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", id: "mapping-add", onclick: () => mappingBody.append(mappingRow({})) }, "Add mapping")),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", id: "target-save" }, "Save"),
      h("button", { type: "button", class: "secondary", id: "target-validate", onclick: () => guard(async () => {
        const result = await api("POST", path("targetValidate", { target: name }), collect());
        const problems = (result && (result.problems || items(result))) || [];
        showProblems(problems.length ? { message: `${problems.length} problem(s)`, problems } : null);
      }) }, "Validate"),
    ),
    problemsBox,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("PUT", path("target", { target: name }), collect());
      flash(`Target ${name} saved`);
      problemsBox.replaceChildren(h("p", { "data-saved": true }, "Saved."));
    } catch (error) {
      showProblems(error);
      flash(error.message, "error");
    }
  });

  const paused = !!t.paused;
  const stateBox = h(
    "div",
    { class: "panel", id: "target-state" },
    targetState(t),
    t.pause_reason ? h("span", { class: "muted" }, ` ${t.pause_reason}`) : null,
    h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", id: paused ? "target-resume" : "target-pause", onclick: () => guard(async () => {
      await api("POST", path(paused ? "targetResume" : "targetPause", { target: name }));
      flash(`${name} ${paused ? "resumed" : "paused"}`);
      route();
    }) }, paused ? "Resume" : "Pause")),
  );

  const repair = h("input", { type: "checkbox" });
  const reportBox = h("section", { id: "reconcile-report", "aria-live": "polite" });
  const reconcileForm = h("form", { class: "inline", id: "reconcile-form" }, field("reconcile-repair", "Repair drift", repair), h("button", { type: "submit", id: "reconcile-run" }, "Run reconciliation"));
  reconcileForm.addEventListener("submit", (event) => {
    event.preventDefault();
    guard(async () => {
      // The run goes on in the server; its page is read until it ends (or this page is left).
      let report = await api("POST", path("reconcile", { target: name }), { repair: repair.checked });
      renderReconciliation(reportBox, { ...report, drift: [] });
      await loadRuns();
      while (report.state === "running" && reportBox.isConnected) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        report = await api("GET", path("reconciliation", { target: name, id: report.id }));
      }
      if (!reportBox.isConnected) return;
      renderReconciliation(reportBox, report);
      await loadRuns();
      flash(`Reconciliation ${report.id ?? ""} ${report.state || "finished"}: ${report.drift_count ?? (report.drift || []).length} drift(s)`);
    });
  });
  const runsBox = h("div", { id: "reconciliations-box" });
  const loadRuns = async () => {
    const runs = await guard(() => api("GET", path("reconciliations", { target: name })));
    fill(runsBox, table("reconciliations", ["Run", "Started", "State", "Policy", "Drift"], runRows(items(runs)), "No reconciliation runs yet."));
  };
  const runRows = (runs) => runs.map((r) =>
    h(
      "tr",
      { "data-reconciliation": r.id },
      h("td", {}, h("button", { type: "button", class: "secondary", onclick: () => guard(async () => renderReconciliation(reportBox, await api("GET", path("reconciliation", { target: name, id: r.id })))) }, `#${r.id}`)),
      h("td", {}, fmtTime(r.started_at)),
      h("td", {}, r.state),
      h("td", {}, r.policy),
      h("td", { class: "num" }, r.drift_count ?? (r.drift ? r.drift.length : "")),
    ),
  );
  await loadRuns();

  return page(
    `Target ${name}`,
    stateBox,
    h("h2", {}, "Configuration"),
    h("div", { class: "panel" }, form),
    h("h2", {}, "Reconciliation"),
    h("div", { class: "panel" }, reconcileForm, reportBox),
    runsBox,
  );
}

function renderReconciliation(box, r) {
  const rows = (r.drift || []).map((d) =>
    h(
      "tr",
      { "data-drift": d.kind, "data-user-name": d.user_name },
      h("td", {}, badge(d.kind, d.kind === "field_differs" ? "warn" : "bad")),
      h("td", {}, d.user_name || d.entity_id || ""),
      h("td", {}, d.remote_id ? h("code", {}, d.remote_id) : ""),
      h("td", {}, d.field || ""),
      h("td", {}, d.expected ?? ""),
      h("td", {}, d.actual ?? ""),
      h("td", {}, d.repair || ""),
    ),
  );
  fill(
    box,
    h("h3", {}, `Run #${r.id} (${r.state || ""}, ${r.policy || ""})`),
    h("p", { class: "muted" }, `${fmtTime(r.started_at)} – ${fmtTime(r.finished_at)}; remote ${r.remote_seen ?? "?"}, local ${r.local_seen ?? "?"}, drift ${r.drift_count ?? (r.drift || []).length}`),
    r.error ? h("p", { class: "problems", id: "reconcile-error" }, r.error) : null,
    table("drift-table", ["Drift", "User", "Remote id", "Field", "Expected", "Actual", "Repair"], rows, r.state === "running" ? "Running: the drift shows when the run ends." : "No drift: the target is in sync."),
  );
}

// ---------------------------------------------------------------------------------------------
// Metrics at a glance

/** Parses Prometheus text exposition into samples `{name, labels, value}`. */
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = line.match(/^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/);
    if (!match) continue;
    const labels = {};
    for (const pair of (match[3] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[4]) });
  }
  return samples;
}

async function metricsPage() {
  const tenant = await api("GET", path("tenant"));
  let samples = null;
  let problem = null;
  try {
    // Without credentials: the endpoint needs none (or its own token), and a 401 from a server
    // without it must not make the browser prompt for a password.
    const response = await fetch("/metrics", { credentials: "omit" });
    if (response.ok) samples = parseMetrics(await response.text());
    else problem = `/metrics answered ${response.status}`;
  } catch (error) {
    problem = error.message;
  }
  const shown = (samples || []).filter((s) => !s.name.endsWith("_bucket") && (!s.labels.tenant || s.labels.tenant === state.tenant));
  const rows = shown.map((s) =>
    h("tr", { "data-metric": s.name }, h("td", {}, h("code", {}, s.name)), h("td", {}, Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(", ")), h("td", { class: "num" }, Number.isInteger(s.value) ? s.value : s.value.toFixed(3))),
  );
  return page(
    "Metrics",
    countCards("metrics-counts", tenant.counts || tenant),
    h("h2", {}, "Server metrics"),
    problem ? h("p", { class: "muted", id: "metrics-problem" }, problem) : table("metrics-table", ["Metric", "Labels", "Value"], rows, "No samples."),
  );
}

// ---------------------------------------------------------------------------------------------
// Routing

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [pathname, qs] = raw.split("?");
  const query = Object.fromEntries(new URLSearchParams(qs || ""));
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, query };
}

async function route() {
  const { parts, query } = parseHash();
  if (parts[0] === "login") return loginPage();
  if (!state.me) {
    const ok = await guard(async () => {
      await loadSession();
      return true;
    });
    if (!ok) return loginPage();
  }
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.nav === (parts[0] || "overview"));
  const seq = ++state.seq;
  const main = document.getElementById("main");
  const show = (view) => {
    if (seq !== state.seq || !view) return;
    fill(main, h("h1", {}, view.title), view.content);
    main.dataset.route = parts[0] || "overview";
    delete main.dataset.loading;
  };
  if (!state.tenant) return show(page("No tenant", h("p", {}, "This administrator sees no tenant.")));
  const pages = {
    "": () => overviewPage(),
    users: () => (parts[1] ? userPage(parts[1]) : usersPage(query)),
    groups: () => groupsPage(),
    log: () => logPage(query),
    "dead-letters": () => deadLettersPage(query),
    targets: () => targetPage(parts[1]),
    metrics: () => metricsPage(),
  };
  const render = pages[parts[0] || ""];
  if (!render) return show(page("Not found", h("p", {}, "No such page. "), h("a", { href: "#/" }, "Overview")));
  main.dataset.loading = "true";
  const view = await guard(render);
  if (seq === state.seq) delete main.dataset.loading;
  show(view);
}

window.addEventListener("hashchange", () => {
  clearFlash();
  route();
});
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("logout").addEventListener("click", logout);
  document.getElementById("tenant-select").addEventListener("change", (event) => {
    state.tenant = event.target.value;
    localStorage.setItem("provisioner.tenant", state.tenant);
    route();
  });
  route();
});
