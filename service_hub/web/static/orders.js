/* Managers' order queue: tabs (未派单, 派单即将超时, 已超时, 被催单, 全部) over GET /orders,
   filters, sort, pages and CSV; select orders and assign or redispatch them in one call. */
"use strict";

(() => {
  const { api, el, $ } = SH;
  const ROLE_LABELS = { manager: "服务经理", admin: "管理员" };
  const EXPIRING_MINUTES = 10;
  // Each queue is a fixed set of GET /orders filters; the form's filters narrow it further.
  const QUEUES = [
    { key: "unassigned", label: "未派单", query: { status: "unassigned" } },
    { key: "expiring", label: "派单即将超时", query: { offer_expiring_within: EXPIRING_MINUTES } },
    { key: "late", label: "已超时", query: { sla_state: "breached", status: ORDER.OPEN.join(",") } },
    { key: "urged", label: "被催单", query: { urged: "true", status: ORDER.OPEN.join(",") } },
    { key: "all", label: "全部", query: {} },
  ];
  const FILTERS = ["status", "community_id", "engineer_id", "source", "sla_state",
    "created_from", "created_to"];
  const SORTS = { created_at: "创建时间（等待时长）", window_start: "预约时段", updated_at: "最近变化" };

  const params = new URLSearchParams(location.search);
  const state = {
    queue: QUEUES.some((q) => q.key === params.get("queue")) ? params.get("queue") : "unassigned",
    sort: params.get("sort") in SORTS ? params.get("sort") : "created_at",
    order: params.get("order") === "desc" ? "desc" : "asc",
    page: Number(params.get("page")) || 1,
    page_size: 20,
    filters: Object.fromEntries(FILTERS.map((name) => [name, params.get(name) || ""])),
  };
  const selected = new Map(); // order id → its row (community, status)

  const queueOf = (key) => QUEUES.find((q) => q.key === key);

  /** A local date (YYYY-MM-DD) as the start of that day with the zone's offset. */
  function dayStart(date, plusDays = 0) {
    const day = new Date(`${date}T00:00:00Z`);
    day.setUTCDate(day.getUTCDate() + plusDays);
    const text = day.toISOString().slice(0, 10);
    return `${text}T00:00:00${SH.zoneOffset(text)}`;
  }

  /** GET /orders's query for a queue with the form's filters (dates as local whole days). */
  function queryFor(queueKey, extra = {}) {
    const query = { ...queueOf(queueKey).query };
    for (const [name, value] of Object.entries(state.filters)) {
      if (!value) continue;
      if (name === "created_from") query.created_from = dayStart(value);
      else if (name === "created_to") query.created_to = dayStart(value, 1);
      else query[name] = value;
    }
    return { ...query, ...extra };
  }

  function buildForm() {
    const form = $("#filters");
    const options = (select, table, all) => {
      select.append(el("option", { value: "" }, all),
        ...Object.entries(table).map(([value, text]) => el("option", { value }, text)));
    };
    options(form.elements.status, ORDER.STATUS, "全部状态");
    options(form.elements.source, ORDER.SOURCE, "全部来源");
    options(form.elements.sla_state, ORDER.SLA, "全部");
    for (const [value, text] of Object.entries(SORTS)) form.elements.sort.append(el("option", { value }, text));
    for (const name of FILTERS) form.elements[name].value = state.filters[name];
    form.elements.sort.value = state.sort;
    form.elements.order.value = state.order;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      for (const name of FILTERS) state.filters[name] = form.elements[name].value.trim();
      state.sort = form.elements.sort.value;
      state.order = form.elements.order.value;
      state.page = 1;
      refresh();
    });
    $("#csv").addEventListener("click", exportCsv);
    $("#bulk-assign").addEventListener("click", () => bulk("assign"));
    $("#bulk-redispatch").addEventListener("click", () => bulk("redispatch"));
  }

  function buildTabs() {
    $("#queues").replaceChildren(...QUEUES.map((q) => el("button", {
      type: "button", role: "tab", dataset: { queue: q.key },
      "aria-selected": String(q.key === state.queue),
      onclick: () => {
        state.queue = q.key;
        state.page = 1;
        // Queues show who has waited longest first; 全部 shows the newest first.
        state.order = q.key === "all" ? "desc" : "asc";
        $("#filters").elements.order.value = state.order;
        for (const tab of $("#queues").children) {
          tab.setAttribute("aria-selected", String(tab.dataset.queue === q.key));
        }
        refresh();
      },
    }, q.label, el("span", { class: "count" }))));
  }

  function remember() {
    const p = new URLSearchParams();
    p.set("queue", state.queue);
    for (const [k, v] of Object.entries({ ...state.filters, sort: state.sort, order: state.order })) {
      if (v) p.set(k, v);
    }
    if (state.page > 1) p.set("page", state.page);
    history.replaceState(null, "", `?${p}`);
  }

  async function loadCounts() {
    await Promise.all(QUEUES.filter((q) => q.key !== "all").map(async (q) => {
      const badge = $(`#queues [data-queue="${q.key}"] .count`);
      try {
        const data = await api("/orders", { query: queryFor(q.key, { page_size: 1 }) });
        badge.textContent = `${data.total}${data.total_exact ? "" : "+"}`;
      } catch (e) {
        badge.textContent = "";
      }
    }));
  }

  async function loadTable() {
    const table = $("#order-table");
    table.setAttribute("aria-busy", "true");
    try {
      const data = await api("/orders", {
        query: queryFor(state.queue, { sort: state.sort, order: state.order, page: state.page,
          page_size: state.page_size }),
      });
      renderTable(data.items);
      renderPager(data);
      $("#order-total").textContent = data.total_exact ? `共 ${data.total} 单` : `超过 ${data.total} 单`;
    } catch (e) {
      SH.notice(e.message, "error");
    } finally {
      table.removeAttribute("aria-busy");
    }
  }

  function countdown(iso) {
    if (!iso) return "—";
    return el("span", { class: "countdown", dataset: { expires: iso } }, SH.fmtCountdown(SH.secondsUntil(iso)));
  }

  function renderTable(rows) {
    const all = el("input", {
      type: "checkbox", "aria-label": "全选本页",
      onchange: (event) => {
        for (const box of document.querySelectorAll("#order-table tbody input[type=checkbox]")) {
          if (box.checked !== event.target.checked) box.click();
        }
      },
    });
    const head = el("tr", {}, el("th", { scope: "col" }, all),
      ["工单", "状态", "服务", "小区", "师傅", "来源", "创建时间", "已等待", "预约时段", "SLA", "催单", "派单剩余"]
        .map((h) => el("th", { scope: "col" }, h)));
    const body = rows.map((row) => el("tr", { dataset: { orderId: row.id, status: row.status } },
      el("td", {}, el("input", {
        type: "checkbox", "aria-label": `选择工单 ${row.id}`, checked: selected.has(row.id),
        onchange: (event) => {
          if (event.target.checked) selected.set(row.id, row);
          else selected.delete(row.id);
          selectionChanged();
        },
      })),
      el("td", {}, el("a", { href: `/dashboard/orders/${row.id}` }, `#${row.id}`)),
      el("td", {}, el("span", { class: `status ${row.status}` }, ORDER.label(ORDER.STATUS, row.status))),
      el("td", {}, row.service_name || `#${row.service_type_id}`),
      el("td", {}, row.community_name),
      el("td", {}, row.engineer_name || "—"),
      el("td", {}, ORDER.label(ORDER.SOURCE, row.source)),
      el("td", {}, SH.fmtTime(row.created_at)),
      el("td", { class: "num" }, ORDER.fmtAge(row.age_minutes)),
      el("td", {}, ORDER.fmtWindow(row.window_start, row.window_end)),
      el("td", {}, el("span", { class: `sla ${row.sla_state}` }, ORDER.label(ORDER.SLA, row.sla_state))),
      el("td", { class: "num" }, row.urge_count || "—"),
      el("td", { class: "num" }, countdown(row.offer_expires_at))));
    if (!rows.length) body.push(el("tr", {}, el("td", { colspan: 13, class: "muted" }, "此队列暂无工单")));
    $("#order-table").replaceChildren(el("thead", {}, head), el("tbody", {}, body));
  }

  function renderPager({ page, page_size, total }) {
    const pages = Math.max(1, Math.ceil(total / page_size));
    const go = (p) => () => { state.page = p; loadTable().then(remember); };
    $("#pager").replaceChildren(
      el("button", { type: "button", disabled: page <= 1, onclick: go(page - 1) }, "上一页"),
      el("span", {}, `第 ${page} / ${pages} 页`),
      el("button", { type: "button", disabled: page >= pages, onclick: go(page + 1) }, "下一页"),
    );
  }

  async function selectionChanged() {
    const count = selected.size;
    $("#selected").textContent = count ? `已选 ${count} 单` : "未选择工单";
    $("#bulk-redispatch").disabled = !count;
    const picker = $("#bulk-engineer");
    const communities = [...new Set([...selected.values()].map((row) => row.community_id))];
    const key = communities.join(",");
    if (picker.dataset.for === key) {
      $("#bulk-assign").disabled = !count || !picker.value;
      return;
    }
    picker.dataset.for = key;
    picker.replaceChildren();
    $("#bulk-assign").disabled = true;
    if (!count) return;
    // Engineers ranked in the selected orders' communities (the first five of them).
    const lists = await Promise.all(communities.slice(0, 5).map((id) =>
      api(`/communities/${id}/engineers`, { query: { page_size: 50 } }).catch(() => ({ items: [] }))));
    if (picker.dataset.for !== key) return; // the selection changed meanwhile
    const seen = new Set();
    for (const item of lists.flatMap((list) => list.items)) {
      if (seen.has(item.engineer.id)) continue;
      seen.add(item.engineer.id);
      picker.append(el("option", { value: item.engineer.id },
        `${item.engineer.name}（口碑 ${SH.fmtNumber(item.standing, 2)}${item.engineer.on_duty ? "" : "，未在岗"}）`));
    }
    if (!seen.size) picker.append(el("option", { value: "" }, "所选小区暂无师傅"));
    $("#bulk-assign").disabled = !picker.value;
  }

  async function bulk(action) {
    const ids = [...selected.keys()];
    if (!ids.length) return;
    const body = { action, order_ids: ids.slice(0, 100) };
    if (action === "assign") body.engineer_id = Number($("#bulk-engineer").value);
    const box = $("#bulk-results");
    try {
      const answer = await api("/orders/bulk", { method: "POST", json: body });
      box.replaceChildren(...answer.results.map((r) => el("li", { class: r.ok ? "ok" : "failed" },
        `#${r.order_id}：`, r.ok ? `成功（${ORDER.label(ORDER.STATUS, r.status)}）` : ORDER.errorText(r.error))));
      box.hidden = false;
      SH.notice(`成功 ${answer.succeeded} 单，失败 ${answer.failed} 单`);
      selected.clear();
      await selectionChanged();
      await refresh();
    } catch (e) {
      SH.notice(ORDER.errorText({ code: e.code, message_zh: e.message }), "error");
    }
  }

  async function exportCsv() {
    try {
      const blob = await api("/orders", { query: queryFor(state.queue, {
        sort: state.sort, order: state.order, format: "csv" }) });
      const link = el("a", { href: URL.createObjectURL(blob), download: `orders-${state.queue}.csv` });
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    } catch (e) {
      SH.notice(e.message, "error");
    }
  }

  function refresh() {
    remember();
    return Promise.all([loadTable(), loadCounts()]);
  }

  // Offers' time left ticks every second, by the server's clock.
  setInterval(() => {
    for (const node of document.querySelectorAll(".countdown[data-expires]")) {
      const left = SH.secondsUntil(node.dataset.expires);
      node.textContent = SH.fmtCountdown(left);
      node.classList.toggle("expired", left <= 0);
    }
  }, 1000);

  buildForm();
  buildTabs();
  $("#bulk-engineer").addEventListener("change", () => {
    $("#bulk-assign").disabled = !selected.size || !$("#bulk-engineer").value;
  });
  SH.signIn({
    storageKey: "serviceHub.manager",
    check: (token) => (["manager", "admin"].includes(token.role) ? null : "该账号不能使用管理看板"),
    onSignedIn: (token) => {
      $("#who").textContent = ROLE_LABELS[token.role] || token.role;
      refresh();
    },
  });
})();
