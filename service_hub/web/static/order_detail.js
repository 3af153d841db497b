/* One order for managers: what it is and where (GET /orders/{id}), its timeline, why dispatch
   chose whom (dispatch_breakdown), and one-click assign, redispatch and cancel. */
"use strict";

(() => {
  const { api, el, $, config } = SH;
  const orderId = config.order_id;
  const ROLE_LABELS = { manager: "服务经理", admin: "管理员" };
  const DONE = { assign: "已指派", redispatch: "已重新派单", cancel: "已取消" };
  const DEADLINES = [["accept_due_at", "接单截止"], ["arrive_due_at", "到达截止"], ["complete_due_at", "完工截止"]];
  let current = null; // the order as last read (its version goes with every action)
  const context = { communityId: null, community: null, services: new Map(), engineers: new Map() };

  const engineerName = (id) => (id ? context.engineers.get(id)?.name || `师傅 #${id}` : "—");

  async function loadContext(order) {
    if (context.communityId === order.community_id) return;
    context.communityId = order.community_id;
    const [home, ranked] = await Promise.all([
      api(`/communities/${order.community_id}`).catch(() => null),
      api(`/communities/${order.community_id}/engineers`, { query: { page_size: 50 } })
        .catch(() => ({ items: [] })),
    ]);
    context.community = home && home.community;
    for (const service of (home && home.services) || []) context.services.set(service.id, service.name);
    const picker = $("#assign-engineer");
    picker.replaceChildren();
    for (const item of ranked.items) {
      context.engineers.set(item.engineer.id, item.engineer);
      picker.append(el("option", { value: item.engineer.id },
        `${item.engineer.name}（口碑 ${SH.fmtNumber(item.standing, 2)}${item.engineer.on_duty ? "" : "，未在岗"}）`));
    }
    if (!ranked.items.length) picker.append(el("option", { value: "" }, "该小区暂无师傅"));
    if (order.engineer_id && !context.engineers.has(order.engineer_id)) {
      const profile = await api(`/engineers/${order.engineer_id}`).catch(() => null);
      if (profile) context.engineers.set(order.engineer_id, profile.engineer);
    }
  }

  async function load() {
    let order;
    try {
      order = await api(`/orders/${orderId}`);
    } catch (e) {
      if (e.status === 404) {
        $("#missing").hidden = false;
        $("#order").hidden = true;
      } else {
        SH.notice(e.message, "error");
      }
      return;
    }
    current = order;
    await loadContext(order);
    render(order);
  }

  function fact(term, ...value) {
    return [el("dt", {}, term), el("dd", {}, ...value)];
  }

  function render(order) {
    $("#order").hidden = false;
    $("#order-id").textContent = `#${order.id}`;
    const status = $("#order-status");
    status.textContent = ORDER.label(ORDER.STATUS, order.status);
    status.className = `status ${order.status}`;
    const community = context.community;
    const communityName = order.community_name || (community && community.name) || `#${order.community_id}`;
    const contact = [order.contact_name, order.contact_mobile].filter(Boolean).join(" ");
    const rows = [
      fact("服务", order.service_name || context.services.get(order.service_type_id) || `#${order.service_type_id}`),
      fact("小区", el("a", { href: `/dashboard/communities/${order.community_id}` }, communityName)),
      fact("地址", order.address_text || (community && `${community.district} ${community.address}`) || "—"),
      fact("联系人", contact || "—"),
      fact("预约时段", ORDER.fmtWindow(order.window_start, order.window_end)),
      fact("师傅", engineerName(order.engineer_id)),
      fact("来源", ORDER.label(ORDER.SOURCE, order.source)),
      fact("创建时间", SH.fmtTime(order.created_at)),
      fact("接单时间", SH.fmtTime(order.accepted_at)),
      fact("完成时间", SH.fmtTime(order.completed_at)),
    ];
    rows.push(...promiseFacts(order), ...acceptanceFacts(order));
    if (order.description) rows.push(fact("描述", order.description));
    if (order.unassigned_reason) rows.push(fact("未派出原因", reasonText(order.unassigned_reason)));
    if (order.complaint) rows.push(fact("投诉", order.complaint));
    if ((order.photos || []).length) {
      rows.push(fact("照片", el("span", { class: "photos" },
        order.photos.map((url) => el("a", { href: url, target: "_blank" }, el("img", { src: url, alt: "照片" }))))));
    }
    $("#facts").replaceChildren(...rows.flat());
    renderActions(order);
    renderBreakdown(order.dispatch_breakdown);
    renderTimeline(order.timeline || []);
  }

  /** The resident's acceptance (完工验收) and the service report's printable page. */
  function acceptanceFacts(order) {
    const rows = [];
    if (order.acceptance) {
      rows.push(fact("验收", el("span", { class: `acceptance ${order.acceptance}` },
        ORDER.label(ORDER.ACCEPTANCE, order.acceptance)),
        order.confirmed_at ? el("span", { class: "muted" }, `（${SH.fmtTime(order.confirmed_at)}）`) : null));
    }
    if (order.dispute_reason) rows.push(fact("验收异议", order.dispute_reason));
    rows.push(fact("服务报告", el("a", { id: "report-link", href: `/dashboard/orders/${order.id}/report` },
      "查看 / 打印服务报告")));
    return rows;
  }

  /** Promises kept (docs/sla.md): SLA state and deadlines, urges, window changes (with the
      resident's last reason), the engineer's proposal, and a second visit's first order. */
  function promiseFacts(order) {
    const rows = [];
    if (order.sla_state) {
      rows.push(fact("SLA",
        el("span", { class: `sla ${order.sla_state}` }, ORDER.label(ORDER.SLA, order.sla_state)),
        order.sla_breached_at
          ? el("span", { class: "muted" }, `（首次超时 ${SH.fmtTime(order.sla_breached_at)}）`) : null));
    }
    for (const [field, term] of DEADLINES) {
      if (order[field]) rows.push(fact(term, SH.fmtTime(order[field])));
    }
    if (order.urge_count) {
      rows.push(fact("催单", el("strong", { class: "urge-count" }, `${order.urge_count} 次`),
        order.last_urged_at ? `，最近 ${SH.fmtTime(order.last_urged_at)}` : ""));
    } else if ("urge_count" in order) {
      rows.push(fact("催单", "无"));
    }
    if (order.reschedule_count) {
      const last = (order.timeline || []).filter((e) => e.action === "reschedule" && e.reason).pop();
      rows.push(fact("改约", `${order.reschedule_count} 次`, last ? `，最近原因：${last.reason}` : ""));
    }
    if (order.proposed_window_start) {
      rows.push(fact("师傅提议", ORDER.fmtWindow(order.proposed_window_start, order.proposed_window_end),
        el("span", { class: "muted" }, "（等待业主确认）")));
    }
    if (order.parent_order_id) {
      rows.push(fact("原工单", "二次上门，原工单 ",
        el("a", { href: `/dashboard/orders/${order.parent_order_id}` }, `#${order.parent_order_id}`)));
    }
    return rows;
  }

  function renderActions(order) {
    const waiting = ORDER.WAITING.includes(order.status);
    $("#assign").disabled = !waiting || !$("#assign-engineer").value;
    $("#assign-engineer").disabled = !waiting;
    $("#redispatch").disabled = order.status !== "unassigned";
    $("#cancel").disabled = !ORDER.OPEN.includes(order.status);
    $("#cancel-reason").disabled = !ORDER.OPEN.includes(order.status);
    $("#action-hint").textContent = ORDER.OPEN.includes(order.status)
      ? (waiting ? "" : "工单已有师傅在处理，只能取消")
      : "工单已结束，无可用操作";
  }

  function renderBreakdown(b) {
    const box = $("#breakdown");
    if (!b) {
      box.replaceChildren(el("p", { class: "muted" }, "尚未派单"));
      return;
    }
    const parts = [];
    if (b.assigned_by_hand) parts.push(el("p", {}, `经理手动指派给 ${engineerName(b.engineer_id)}`));
    else if (b.engineer_id) parts.push(el("p", {}, `系统派给 ${engineerName(b.engineer_id)}`));
    if (b.components) {
      const names = Object.keys(b.components);
      parts.push(el("table", { class: "data breakdown" },
        el("thead", {}, el("tr", {}, ["分项", "得分", "权重", "加权"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, names.map((name) => el("tr", {},
          el("td", {}, ORDER.label(ORDER.COMPONENT, name)),
          el("td", { class: "num" }, SH.fmtNumber(b.components[name], 3)),
          el("td", { class: "num" }, SH.fmtNumber((b.weights || {})[name], 3)),
          el("td", { class: "num" }, SH.fmtNumber((b.weighted || {})[name], 3))))),
        el("tfoot", {}, el("tr", {}, el("th", { scope: "row", colspan: 3 }, "总分"),
          el("td", { class: "num total" }, SH.fmtNumber(b.total, 3))))));
      const notes = [];
      if (b.distance_km !== undefined) notes.push(`距离 ${SH.fmtNumber(b.distance_km, 1)} 公里`);
      if (b.candidates !== undefined) notes.push(`合格候选 ${b.candidates} 人`);
      if (notes.length) parts.push(el("p", { class: "muted" }, notes.join(" · ")));
    }
    const rejected = Object.entries(b.rejected || {});
    if (rejected.length) {
      parts.push(el("h3", {}, "未入选"), el("ul", { class: "rejected" }, rejected.map(([id, why]) =>
        el("li", {}, `${engineerName(Number(id))}：${ORDER.label(ORDER.REJECTION, why)}`))));
    }
    if (b.preferred_skipped) {
      parts.push(el("p", {}, `指定师傅未派：${ORDER.label(ORDER.REJECTION, b.preferred_skipped)}`));
    }
    box.replaceChildren(...(parts.length ? parts : [el("p", { class: "muted" }, "无评分记录")]));
  }

  // The system's own reasons on the timeline (written in English by dispatch), in Chinese.
  function reasonText(reason) {
    if (!reason) return "";
    let m = reason.match(/^no eligible engineer: (.*)$/);
    if (m) return `无合格师傅：${m[1].split(", ").map((c) => ORDER.label(ORDER.REJECTION, c)).join("、")}`;
    m = reason.match(/^offered to engineer (\d+)$/);
    if (m) return `派给 ${engineerName(Number(m[1]))}`;
    m = reason.match(/^offer to engineer (\d+) expired$/);
    if (m) return `${engineerName(Number(m[1]))} 未在时限内接单`;
    return reason === "assigned by a manager" ? "经理指派" : reason;
  }

  function renderTimeline(events) {
    const head = el("tr", {}, ["时间", "事件", "操作人", "状态", "说明"].map((h) => el("th", { scope: "col" }, h)));
    const body = events.map((e) => el("tr", {},
      el("td", {}, SH.fmtTime(e.at)),
      el("td", {}, ORDER.label(ORDER.ACTION, e.action)),
      el("td", {}, ORDER.label(ORDER.ACTOR, e.actor_kind)),
      el("td", {}, `${e.from_status ? `${ORDER.label(ORDER.STATUS, e.from_status)} → ` : ""}${ORDER.label(ORDER.STATUS, e.to_status)}`),
      el("td", {}, reasonText(e.reason))));
    $("#timeline").replaceChildren(el("thead", {}, head), el("tbody", {}, body));
  }

  async function act(action, body = {}) {
    for (const button of document.querySelectorAll(".action-row button")) button.disabled = true;
    try {
      await api(`/orders/${orderId}/${action}`, {
        method: "POST", json: body, headers: { "If-Match": `"${current.version}"` },
      });
      SH.notice(DONE[action] || "已处理");
    } catch (e) {
      SH.notice(ORDER.errorText({ code: e.code, message_zh: e.message }), "error");
    }
    await load();
  }

  $("#assign").addEventListener("click", () => {
    const engineerId = Number($("#assign-engineer").value);
    if (engineerId) act("assign", { engineer_id: engineerId });
  });
  $("#redispatch").addEventListener("click", () => act("redispatch"));
  $("#cancel").addEventListener("click", () => {
    const reason = $("#cancel-reason").value.trim();
    if (!reason) {
      SH.notice("请填写取消原因", "error");
      $("#cancel-reason").focus();
      return;
    }
    act("cancel", { reason });
  });

  SH.signIn({
    storageKey: "serviceHub.manager",
    check: (token) => (["manager", "admin"].includes(token.role) ? null : "该账号不能使用管理看板"),
    onSignedIn: (token) => {
      $("#who").textContent = ROLE_LABELS[token.role] || token.role;
      load();
    },
  });
})();
