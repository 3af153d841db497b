/* One community for managers: the latest month's figures, health warnings, its complaints and
   low ratings to follow up (follow_ups.js), 13-month charts (Chart.js, served by us), and its
   engineers' ranking with what each standing is made of. */
"use strict";

(() => {
  const { api, el, $, config } = SH;
  const id = config.community_id;
  const asked = new URLSearchParams(location.search).get("month") || "";
  const until = /^[1-9]\d{3}-(0[1-9]|1[0-2])$/.test(asked) ? asked : ""; // else the API's default
  const PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2"];
  // What a standing is made of (dispatch/standing_formula.py); other keys show by name.
  const BREAKDOWN = [
    ["bayesian_rating", "贝叶斯评分"], ["average_rating", "平均评分"], ["reviews", "评价数"],
    ["completed_orders", "完成单"], ["decayed_completed", "近期完成（衰减）"],
    ["complaints", "投诉"], ["complaint_rate", "投诉率"], ["likes", "点赞"],
    ["quality", "质量项"], ["volume", "数量项"], ["likes_term", "点赞项"],
  ];
  const BREAKDOWN_SKIP = new Set(["standing", "weights", "as_of", "scored"]);
  const WEIGHT_LABELS = { quality: "质量", volume: "数量", likes: "点赞", complaints: "投诉" };
  const charts = {};

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.animation.duration = 300;

  function draw(canvasId, type, labels, datasets, options = {}) {
    charts[canvasId]?.destroy();
    charts[canvasId] = new Chart($(`#${canvasId}`), {
      type,
      data: {
        labels,
        datasets: datasets.map((d, i) => ({
          borderColor: PALETTE[i], backgroundColor: PALETTE[i], spanGaps: true, tension: 0.2, ...d,
        })),
      },
      options: {
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true } },
        ...options,
      },
    });
  }

  async function loadSeries() {
    const series = await api(`/kpis/communities/${id}`, { query: { months: 13, until } });
    const rows = series.months;
    const latest = rows[rows.length - 1] || {};
    $("#community-name").textContent = latest.community_name || `小区 #${id}`;
    document.title = `${latest.community_name || "小区"} · 服务中心`;
    $("#latest-month").textContent = latest.month || "";
    const columns = KPI.columns(rows).filter((c) => c.kind !== "list"); // warnings: own section
    $("#summary").replaceChildren(...columns.filter((c) => c.key !== "community_name").map((c) =>
      el("div", { title: c.definition }, el("dt", {}, c.label),
        el("dd", {}, KPI.format(c, KPI.value(latest, c.key))))));
    $("#partial-note").hidden = !latest.partial_month;

    const labels = rows.map((r) => r.month);
    const pick = (key) => rows.map((r) => KPI.value(r, key) ?? null);
    draw("chart-volume", "bar", labels, [
      { label: "订单量", data: pick("orders") },
      { label: "完成", data: pick("completed") },
      { label: "投诉", data: pick("complaints") },
    ]);
    draw("chart-per1000", "line", labels, [
      { label: "千户服务量", data: pick("orders_per_1000") },
      { label: "千户投诉量", data: pick("complaints_per_1000"), yAxisID: "y2" },
    ], {
      scales: {
        y: { beginAtZero: true, title: { display: true, text: "千户服务量" } },
        y2: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false },
          title: { display: true, text: "千户投诉量" } },
      },
    });

    // Any numeric field can be charted, so KPIs the API adds later need no code here.
    const picker = $("#trend-key");
    const numeric = KPI.numericColumns(rows).filter((c) => c.key !== "household_count");
    picker.replaceChildren(...numeric.map((c) => el("option", { value: c.key }, c.label)));
    picker.value = numeric.some((c) => c.key === "average_rating") ? "average_rating" : picker.value;
    const drawTrend = () => {
      const column = numeric.find((c) => c.key === picker.value);
      if (column) draw("chart-trend", "line", labels, [{ label: column.label, data: pick(column.key) }]);
    };
    picker.onchange = drawTrend;
    drawTrend();

    const monthly = columns.filter((c) => c.key !== "community_name");
    $("#series-table").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "月份"),
        monthly.map((c) => el("th", { scope: "col", title: c.definition }, c.label)))),
      el("tbody", {}, rows.map((r) => el("tr", {}, el("td", {}, r.partial_month ? `${r.month}（未结束）` : r.month),
        monthly.map((c) => el("td", { class: "num" }, KPI.format(c, KPI.value(r, c.key))))))),
    );

    const warnings = series.health_warnings ?? latest.health_warnings;
    KPI.renderWarnings($("#warnings"),
      warnings === undefined ? undefined : warnings.map((w) => el("li", {}, KPI.warningTag(w))),
      latest.partial_month ? "该月尚未结束，不做预警" : "暂无预警");
  }

  async function loadEngineers(page = 1) {
    const data = await api(`/communities/${id}/engineers`, { query: { page, page_size: 20 } });
    const keys = new Set();
    for (const item of data.items) {
      for (const k of Object.keys(item.standing_breakdown || {})) if (!BREAKDOWN_SKIP.has(k)) keys.add(k);
    }
    const known = BREAKDOWN.filter(([k]) => keys.has(k));
    const extra = [...keys].filter((k) => !BREAKDOWN.some(([b]) => b === k)).map((k) => [k, k]);
    const columns = [...known, ...extra];
    const first = (page - 1) * data.page_size;
    $("#engineers").replaceChildren(
      el("thead", {}, el("tr", {}, ["排名", "师傅", "在岗", "综合分", ...columns.map((c) => c[1])]
        .map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, data.items.length ? data.items.map((item, i) => el("tr", {},
        el("td", { class: "num" }, first + i + 1),
        el("td", {}, item.engineer.name),
        el("td", {}, item.engineer.on_duty ? "是" : "否"),
        el("td", { class: "num" }, item.standing_breakdown?.scored === false
          ? `${SH.fmtNumber(item.standing)}（未评分）` : SH.fmtNumber(item.standing)),
        columns.map(([k]) => el("td", { class: "num" }, SH.fmtNumber(item.standing_breakdown?.[k])))))
        : el("tr", {}, el("td", { colspan: 4, class: "muted" }, "暂无师傅服务该小区"))),
    );
    const sample = data.items.find((item) => item.standing_breakdown?.weights);
    $("#weights").textContent = sample
      ? `综合分权重：${Object.entries(sample.standing_breakdown.weights)
        .map(([k, v]) => `${WEIGHT_LABELS[k] || k} ${v}`).join("，")}（截至 ${sample.standing_breakdown.as_of}）`
      : "";
    const pages = Math.max(1, Math.ceil(data.total / data.page_size));
    $("#engineer-pager").replaceChildren(...(pages > 1 ? [
      el("button", { type: "button", disabled: page <= 1, onclick: () => loadEngineers(page - 1) },
        "上一页"),
      el("span", {}, `第 ${page} / ${pages} 页`),
      el("button", { type: "button", disabled: page >= pages, onclick: () => loadEngineers(page + 1) },
        "下一页"),
    ] : []));
  }

  SH.signIn({
    storageKey: "serviceHub.manager",
    check: (token) => (["manager", "admin"].includes(token.role) ? null : "该账号不能使用管理看板"),
    onSignedIn: (token) => {
      $("#who").textContent = token.role === "admin" ? "管理员" : "服务经理";
      $("#back").href = `/dashboard${until ? `?month=${until}` : ""}`;
      $("#all-follow-ups").href = `/dashboard/follow-ups?community_id=${id}`;
      // This community's complaints and low ratings, newest first, dealt with or not.
      FOLLOW_UPS.mount($("#follow-ups"), { community_id: id, status: "all", order: "newest" });
      loadSeries().catch((e) => SH.notice(e.message, "error"));
      loadEngineers().catch((e) => SH.notice(e.message, "error"));
    },
  });
})();
