/* Managers' dashboard: the KPI table (sort, filter, pages), the best and worst communities by
   a KPI (its direction from the contract), health warnings over every community of the month,
   the KPI legend and coupon campaign results. Only paginated API calls. */
"use strict";

(() => {
  const { api, el, $, config } = SH;
  const contract = config.kpi;
  const sortKeys = new Set(contract.sort_keys);
  const FILTER_LABELS = { month: "月份", region: "地区", tier: "等级" };
  const ROLE_LABELS = { manager: "服务经理", admin: "管理员" };
  const CAMPAIGN_STATUS = { draft: "草稿", active: "进行中", paused: "已暂停", ended: "已结束" };
  const COUPON_STATES = { available: "未使用", reserved: "已占用", spent: "已核销", expired: "已过期" };
  const RANK_SIZE = 5;
  const MAX_PAGE = 10000;
  const DEFAULT_SORT = sortKeys.has("orders_per_1000") ? "orders_per_1000" : contract.sort_keys[0];

  /** "2026-05" shifted by n months. */
  function shiftMonth(month, n) {
    const [year, number] = month.split("-").map(Number);
    const index = year * 12 + number - 1 + n;
    return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
  }
  // The running month is days old: the dashboard opens on the last complete one.
  const LAST_COMPLETE = shiftMonth(config.this_month, -1);

  /** A filter's value from the address, or "" when the API would refuse it. */
  function validFilter(f, value) {
    if (!value) return "";
    if (f.enum && !f.enum.includes(value)) return "";
    if (f.pattern && !new RegExp(f.pattern).test(value)) return "";
    return value.length > 32 ? "" : value;
  }

  // The list's state lives in the address, so reload and back keep it. Whatever the address
  // holds that the API would refuse (an unknown sort, a page of -3) falls back to the default.
  const params = new URLSearchParams(location.search);
  const page = Number(params.get("page"));
  const state = {
    sort: sortKeys.has(params.get("sort")) ? params.get("sort") : DEFAULT_SORT,
    order: params.get("order") === "asc" ? "asc" : "desc",
    page: Number.isInteger(page) && page >= 1 && page <= MAX_PAGE ? page : 1,
    page_size: 20,
    filters: Object.fromEntries(contract.filters.map((f) => [f.name, validFilter(f, params.get(f.name))])),
  };
  if (!state.filters.month && "month" in state.filters) state.filters.month = LAST_COMPLETE;
  const running = () => state.filters.month >= config.this_month;

  const query = (extra = {}) => ({ ...state.filters, ...extra });
  const communityLink = (row) =>
    el("a", { href: `/dashboard/communities/${row.community_id}?month=${row.month || ""}` },
      row.community_name || `#${row.community_id}`);

  function buildFilters() {
    const box = $("#filter-fields");
    for (const f of contract.filters) {
      const label = FILTER_LABELS[f.name] || f.description || f.name;
      let input;
      if (f.enum) {
        input = el("select", { name: f.name },
          el("option", { value: "" }, "全部"),
          f.enum.map((v) => el("option", { value: v }, v)));
      } else {
        input = el("input", {
          name: f.name, type: f.name === "month" ? "month" : "text",
          placeholder: f.name === "region" ? "省 / 市 / 区" : "",
        });
      }
      input.value = state.filters[f.name];
      box.append(el("label", {}, `${label} `, input));
    }
    $("#filters").addEventListener("submit", (event) => {
      event.preventDefault();
      for (const f of contract.filters) state.filters[f.name] = $("#filters").elements[f.name].value;
      if (!state.filters.month && "month" in state.filters) state.filters.month = LAST_COMPLETE;
      state.page = 1;
      refresh();
    });
    const rankKey = $("#rank-key");
    for (const key of contract.sort_keys.filter((k) => KPI.describe(k).kind !== "context")) {
      rankKey.append(el("option", { value: key }, KPI.describe(key).label));
    }
    rankKey.value = state.sort;
    if (!rankKey.value) rankKey.value = rankKey.options[0]?.value;
    rankKey.addEventListener("change", loadRankings);
    if (contract.csv) {
      $("#csv").hidden = false;
      $("#csv").addEventListener("click", exportCsv);
    }
  }

  function remember() {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...state.filters, sort: state.sort, order: state.order })) {
      if (v) p.set(k, v);
    }
    if (state.page > 1) p.set("page", state.page);
    history.replaceState(null, "", `?${p}`);
  }

  /** Calls of one loader where only the latest may draw: a slow answer to an earlier choice
      (the first page load's, a key chosen a moment ago) must not overwrite a newer one. */
  function latestOnly() {
    let last = 0;
    return () => {
      const mine = ++last;
      return () => mine === last;
    };
  }
  const tableCall = latestOnly();
  const rankingsCall = latestOnly();
  const warningsCall = latestOnly();

  async function loadTable() {
    const current = tableCall();
    const table = $("#kpi-table");
    table.setAttribute("aria-busy", "true");
    try {
      const data = await api("/kpis/communities", {
        query: query({ sort: state.sort, order: state.order, page: state.page,
          page_size: state.page_size }),
      });
      if (!current()) return;
      renderTable(data.items);
      renderPager(data);
      $("#kpi-total").textContent = `共 ${data.total} 个小区`;
    } catch (e) {
      if (!current()) return;
      SH.notice(e.message, "error");
      renderTable([], `加载失败：${e.message}`);
    } finally {
      if (current()) table.removeAttribute("aria-busy");
    }
  }

  function renderTable(rows, emptyText = "该月暂无数据") {
    const columns = rows.length ? KPI.columns(rows) : KPI.knownColumns();
    const head = el("tr", {}, columns.map((c) => {
      if (!sortKeys.has(c.key)) return el("th", { scope: "col", title: c.definition }, c.label);
      const active = state.sort === c.key;
      return el("th", {
        scope: "col", title: c.definition,
        "aria-sort": active ? (state.order === "asc" ? "ascending" : "descending") : null,
      }, el("button", {
        type: "button", class: "sort", dataset: { sort: c.key },
        onclick: () => {
          state.order = active && state.order === "desc" ? "asc" : "desc";
          state.sort = c.key;
          state.page = 1;
          loadTable().then(remember);
        },
      }, c.label, el("span", { class: "arrow" }, active ? (state.order === "asc" ? "▲" : "▼") : "")));
    }));
    const body = rows.map((row) => el("tr", { dataset: { communityId: row.community_id } },
      columns.map((c) => c.key === "community_name"
        ? el("td", {}, communityLink(row))
        : el("td", { class: c.kind === "text" ? null : "num" }, KPI.format(c, KPI.value(row, c.key))))));
    if (!rows.length) {
      body.push(el("tr", {}, el("td", { colspan: columns.length, class: "muted" }, emptyText)));
    }
    $("#kpi-table").replaceChildren(el("thead", {}, head), el("tbody", {}, body));
  }

  function renderPager({ page, page_size, total }) {
    const go = (p) => () => { state.page = p; loadTable().then(remember); };
    $("#pager").replaceChildren(...pagerButtons({ page, page_size, total }, go));
  }

  function pagerButtons({ page, page_size, total }, go) {
    const pages = Math.max(1, Math.ceil(total / page_size));
    return [
      el("button", { type: "button", disabled: page <= 1, onclick: go(1) }, "首页"),
      el("button", { type: "button", disabled: page <= 1, onclick: go(page - 1) }, "上一页"),
      el("span", {}, `第 ${page} / ${pages} 页`),
      el("button", { type: "button", disabled: page >= pages, onclick: go(page + 1) }, "下一页"),
      el("button", { type: "button", disabled: page >= pages, onclick: go(Math.min(pages, MAX_PAGE)) },
        "末页"),
    ];
  }

  // Best and worst by the chosen KPI: its direction says which end is good (the lowest
  // 千户投诉量 is the best). Undefined values come last both ways, so neither list shows them.
  async function loadRankings() {
    const current = rankingsCall();
    const key = $("#rank-key").value;
    if (!key) return;
    const column = KPI.describe(key);
    const [bestWord, worstWord] = KPI.rankWords(column);
    $("#best-title").textContent = bestWord;
    $("#worst-title").textContent = worstWord;
    $("#rank-key").title = column.definition || "";
    const best = KPI.bestOrder(column);
    const fill = async (box, order) => {
      try {
        const data = await api("/kpis/communities",
          { query: query({ sort: key, order, page: 1, page_size: RANK_SIZE }) });
        if (!current()) return;
        box.replaceChildren(...data.items.map((row) => el("li", {}, communityLink(row),
          el("span", { class: "num" }, KPI.format(column, KPI.value(row, key))))));
        if (!data.items.length) box.replaceChildren(el("li", { class: "muted" }, "暂无数据"));
      } catch (e) {
        if (!current()) return;
        box.replaceChildren(el("li", { class: "error" }, e.message));
      }
      box.dataset.key = key;  // what the list shows now (tests and styles can wait for it)
    };
    await Promise.all([fill($("#best"), best), fill($("#worst"), best === "desc" ? "asc" : "desc")]);
  }

  // Warnings of every community of the month and filters, page by page (GET /kpis/warnings).
  async function loadWarnings(page = 1) {
    const current = warningsCall();
    const box = $("#warnings");
    $("#warning-pager").replaceChildren();
    $("#warning-total").textContent = "";
    if (running()) {
      KPI.renderWarnings(box, [], "所选月份尚未结束，不做预警（与整月比较没有意义）");
      return;
    }
    try {
      const data = await api("/kpis/warnings", { query: query({ page, page_size: 20 }) });
      if (!current()) return;
      KPI.renderWarnings(box, data.items.map((row) => el("li", {}, communityLink(row), "：",
        row.health_warnings.map(KPI.warningTag))), "该月没有小区需要预警");
      $("#warning-total").textContent = `共 ${data.total} 个小区`;
      if (data.total > data.page_size) {
        $("#warning-pager").replaceChildren(...pagerButtons(data, (p) => () => loadWarnings(p)));
      }
    } catch (e) {
      if (!current()) return;
      box.replaceChildren(el("p", { class: "error" }, e.message));
    }
  }

  async function loadCampaigns() {
    const box = $("#campaigns");
    let page;
    try {
      page = await api("/coupon-campaigns", { query: { page: 1, page_size: 10 } });
    } catch (e) {
      const text = e.status === 404 ? "暂无优惠券活动结果（接口尚未提供）" : e.message;
      box.replaceChildren(el("p", { class: "muted" }, text));
      return;
    }
    if (!page.items.length) {
      box.replaceChildren(el("p", { class: "muted" }, "暂无优惠券活动"));
      return;
    }
    // The list has stock and issued; the detail adds coupons by state (spent = used).
    const details = await Promise.all(page.items.map((c) =>
      api(`/coupon-campaigns/${c.id}`).catch(() => c)));
    const rows = details.map((c) => {
      const counts = c.coupons || {};
      const spent = counts.spent ?? null;
      return el("tr", {},
        el("td", {}, c.title),
        el("td", {}, CAMPAIGN_STATUS[c.status] || c.status),
        el("td", { class: "num" }, `${SH.fmtNumber(c.issued)} / ${SH.fmtNumber(c.total_stock)}`),
        el("td", { class: "num" },
          spent === null ? "—" : `${spent}（${c.issued ? Math.round((spent / c.issued) * 100) : 0}%）`),
        el("td", {}, Object.entries(counts).map(([k, v]) => `${COUPON_STATES[k] || k} ${v}`)
          .join(" · ") || "—"));
    });
    box.replaceChildren(el("div", { class: "table-wrap" }, el("table", { class: "data" },
      el("thead", {}, el("tr", {}, ["活动", "状态", "已发放 / 库存", "核销（率）", "券状态"]
        .map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows))),
    // replaceChildren would write a null as the text "null".
    ...(page.total > page.items.length
      ? [el("p", { class: "muted" }, `最近 ${page.items.length} 个，共 ${page.total} 个活动`)] : []));
  }

  async function exportCsv() {
    const q = query({ sort: state.sort, order: state.order });
    const headers = {};
    if (contract.csv === "format") q.format = "csv";
    else headers.Accept = "text/csv";
    try {
      const blob = await api("/kpis/communities", { query: q, headers });
      const link = el("a", {
        href: URL.createObjectURL(blob), download: `kpis-${state.filters.month || "all"}.csv`,
      });
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    } catch (e) {
      SH.notice(e.message, "error");
    }
  }

  function refresh() {
    remember();
    $("#partial-note").hidden = !running();
    return Promise.all([loadTable(), loadRankings(), loadWarnings()]);
  }

  buildFilters();
  $("#legend").replaceChildren(KPI.legend());
  SH.signIn({
    storageKey: "serviceHub.manager",
    check: (token) => (["manager", "admin"].includes(token.role) ? null : "该账号不能使用管理看板"),
    onSignedIn: (token) => {
      $("#who").textContent = ROLE_LABELS[token.role] || token.role;
      refresh();
      loadCampaigns();
    },
  });
})();
