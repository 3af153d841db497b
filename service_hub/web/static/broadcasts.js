/* Community broadcasts for managers (GET /broadcasts): when, which community, what kind, how
   many residents, and what happened to each WeChat delivery (by status). Everyone also gets
   the message in the in-app inbox, so a delivery not sent on WeChat still reached them. */
"use strict";

(() => {
  const { api, el, $ } = SH;
  const KIND = {
    visit_announced: "工程师上门预告", activity_reminder: "活动提醒", coupon_granted: "优惠券到账",
    coupon_expiring: "优惠券即将过期", order_accepted: "工单已接单", engineer_en_route: "工程师已出发",
    order_completed: "服务已完成", window_proposed: "工程师建议调整上门时间",
  };
  // Delivery statuses, in the order a manager reads them.
  const STATUS = [
    ["sent", "微信已送达"], ["queued", "排队中"], ["sending", "发送中"], ["deferred", "免打扰顺延"],
    ["skipped_no_credit", "无订阅额度"], ["capped", "超出频次"], ["opted_out", "已退订"],
    ["blocked_daily_limit", "微信日限"], ["failed", "失败"],
  ];
  const PAGE_SIZE = 20;

  function countsText(counts) {
    const known = STATUS.filter(([k]) => counts[k]).map(([k, label]) => `${label} ${counts[k]}`);
    const other = Object.entries(counts).filter(([k]) => !STATUS.some(([s]) => s === k))
      .map(([k, n]) => `${k} ${n}`);
    return [...known, ...other].join(" · ") || "—";
  }

  async function load(page = 1) {
    const table = $("#broadcasts");
    try {
      const data = await api("/broadcasts", { query: { page, page_size: PAGE_SIZE } });
      $("#broadcast-total").textContent = `共 ${data.total} 条`;
      const head = el("tr", {}, ["时间", "小区", "内容", "居民", "微信已送达", "投递情况", "状态"]
        .map((h) => el("th", { scope: "col" }, h)));
      const rows = data.items.map((b) => el("tr", { dataset: { broadcastId: b.id } },
        el("td", {}, SH.fmtTime(b.created_at)),
        el("td", {}, el("a", { href: `/dashboard/communities/${b.community_id}` },
          b.community_name || `#${b.community_id}`)),
        el("td", {}, KIND[b.kind] || b.kind),
        el("td", { class: "num" }, SH.fmtNumber(b.recipients)),
        el("td", { class: "num" }, SH.fmtNumber(b.counts.sent || 0)),
        el("td", {}, countsText(b.counts)),
        el("td", {}, b.finished_at ? "已完成" : "投递中")));
      if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "暂无群发")));
      table.replaceChildren(el("thead", {}, head), el("tbody", {}, rows));
      const pages = Math.max(1, Math.ceil(data.total / data.page_size));
      $("#broadcast-pager").replaceChildren(...(pages > 1 ? [
        el("button", { type: "button", disabled: page <= 1, onclick: () => load(page - 1) }, "上一页"),
        el("span", {}, `第 ${page} / ${pages} 页`),
        el("button", { type: "button", disabled: page >= pages, onclick: () => load(page + 1) }, "下一页"),
      ] : []));
    } catch (e) {
      SH.notice(e.message, "error");
    }
  }

  SH.signIn({
    storageKey: "serviceHub.manager",
    check: (token) => (["manager", "admin"].includes(token.role) ? null : "该账号不能使用管理看板"),
    onSignedIn: (token) => {
      $("#who").textContent = token.role === "admin" ? "管理员" : "服务经理";
      load();
    },
  });
})();
