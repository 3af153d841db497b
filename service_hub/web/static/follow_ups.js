/* Follow-ups (complaints and low ratings) for managers: what the resident said, the order
   behind it (service, engineer, timeline), and closing with a note. FOLLOW_UPS.mount() draws
   the list into a container; the follow-ups page and a community's page both use it. */
"use strict";

const FOLLOW_UPS = (() => {
  const { api, el } = SH;
  const KIND = { complaint: "投诉", low_rating: "差评", dispute: "验收异议" };
  const STATUS = { open: "待跟进", closed: "已关闭" };
  const REVIEW_STATUS = { visible: "已公开", held: "待审核", hidden: "已隐藏" };
  const stars = (n) => "★".repeat(n) + "☆".repeat(5 - n);

  /** The order's timeline, read when asked for (GET /orders/{id}). */
  async function showTimeline(box, orderId) {
    box.hidden = !box.hidden;
    if (box.hidden || box.dataset.loaded) return;
    box.replaceChildren(el("p", { class: "muted" }, "加载中…"));
    try {
      const order = await api(`/orders/${orderId}`);
      box.dataset.loaded = "1";
      box.replaceChildren(el("ol", { class: "timeline" }, order.timeline.map((e) => el("li", {},
        el("time", {}, SH.fmtTime(e.at)), " ",
        ORDER.label(ORDER.ACTION, e.action), "（", ORDER.label(ORDER.ACTOR, e.actor_kind), "）",
        e.to_status ? ` → ${ORDER.label(ORDER.STATUS, e.to_status)}` : "",
        e.reason ? el("span", { class: "muted" }, `：${e.reason}`) : null))));
    } catch (e) {
      box.replaceChildren(el("p", { class: "error" }, e.message));
    }
  }

  function item(f, onClosed) {
    const order = f.order;
    const timeline = el("div", { class: "order-timeline", hidden: true });
    const said = [];
    if (f.complaint) said.push(el("blockquote", { class: "said complaint" }, f.complaint));
    if (f.review) {
      said.push(el("blockquote", { class: "said review" },
        el("span", { class: "stars", title: `${f.review.rating} 星` }, stars(f.review.rating)), " ",
        f.review.text || el("span", { class: "muted" }, "（未写评价内容）"),
        f.review.status !== "visible"
          ? el("span", { class: "muted" }, `（${REVIEW_STATUS[f.review.status] || f.review.status}）`)
          : null));
    }
    if (!said.length) said.push(el("blockquote", { class: "said" }, f.summary));
    let action;
    if (f.status === "open") {
      const error = el("p", { class: "error", role: "alert" });
      action = el("form", { class: "close-form", onsubmit: async (event) => {
        event.preventDefault();
        const form = event.target;
        error.textContent = "";
        form.elements.submit.disabled = true;
        try {
          const closed = await api(`/follow-ups/${f.id}/close`,
            { method: "POST", json: { note: form.elements.note.value } });
          SH.notice("跟进已关闭");
          onClosed(closed);
        } catch (e) {
          error.textContent = e.message;
          form.elements.submit.disabled = false;
        }
      } },
      el("label", {}, el("span", { class: "visually-hidden" }, "处理说明"),
        el("input", { name: "note", maxlength: 500, required: true,
          placeholder: "处理说明，例如：已电话回访，安排返工" })),
      el("button", { type: "submit", name: "submit" }, "关闭跟进"), error);
    } else {
      action = el("p", { class: "note" }, `处理说明：${f.note || "—"}`,
        el("span", { class: "muted" }, `（${SH.fmtTime(f.closed_at)} 关闭）`));
    }
    return el("article", { class: "item follow-up", dataset: { followUpId: f.id } },
      el("div", { class: "title" },
        el("span", {}, el("span", { class: `tag ${f.kind}` }, KIND[f.kind] || f.kind), " ",
          el("a", { href: `/dashboard/communities/${f.community_id}` }, f.community_name), " · ",
          order.service_name),
        el("span", { class: `status ${f.status}` }, STATUS[f.status] || f.status)),
      said,
      el("p", { class: "muted order-facts" },
        `工单 #${order.id}（${ORDER.label(ORDER.STATUS, order.status)}）· 师傅 ${order.engineer_name || "—"}`
        + ` · 下单 ${SH.fmtTime(order.created_at)} · 完成 ${SH.fmtTime(order.completed_at)}`
        + ` · 提出于 ${SH.fmtTime(f.created_at)}`),
      order.description ? el("p", { class: "muted" }, `需求：${order.description}`) : null,
      el("div", { class: "links" },
        el("button", { type: "button", class: "link", onclick: () => showTimeline(timeline, order.id) },
          "工单时间线"),
        el("a", { href: `/dashboard/orders/${order.id}` }, "打开工单")),
      timeline,
      action);
  }

  /**
   * Draw follow-ups into `box`: {community_id, status, kind} filter them, `order` is oldest
   * (a queue) or newest first; `controls` adds status and kind pickers. Closing one redraws
   * the page.
   */
  function mount(box, {
    community_id = null, status = "open", kind = "", order = "oldest", controls = true,
  } = {}) {
    const state = { community_id, status, kind, order, page: 1 };
    const list = el("div", { class: "follow-up-list" });
    const pager = el("nav", { class: "pager", "aria-label": "跟进分页" });
    const total = el("span", { class: "muted" });
    const picker = (name, options) => el("select", {
      name, "aria-label": name === "status" ? "状态" : "类型",
      onchange: (event) => { state[name] = event.target.value; state.page = 1; load(); },
    }, options.map(([value, text]) => el("option", { value, selected: value === state[name] }, text)));
    box.replaceChildren(
      controls ? el("div", { class: "filters" },
        picker("status", [["all", "全部"], ["open", "待跟进"], ["closed", "已关闭"]]),
        picker("kind", [["", "全部类型"], ["complaint", "投诉"], ["low_rating", "差评"],
          ["dispute", "验收异议"]]),
        total) : total,
      list, pager);

    async function load() {
      list.setAttribute("aria-busy", "true");
      try {
        const data = await api("/follow-ups", { query: { ...state, page_size: 10 } });
        total.textContent = `共 ${data.total} 条`;
        list.replaceChildren(...(data.items.length
          ? data.items.map((f) => item(f, load))
          : [el("p", { class: "muted" }, state.status === "open" ? "没有待跟进的投诉或差评" : "暂无记录")]));
        const pages = Math.max(1, Math.ceil(data.total / data.page_size));
        const go = (p) => () => { state.page = p; load(); };
        pager.replaceChildren(...(pages > 1 ? [
          el("button", { type: "button", disabled: data.page <= 1, onclick: go(data.page - 1) }, "上一页"),
          el("span", {}, `第 ${data.page} / ${pages} 页`),
          el("button", { type: "button", disabled: data.page >= pages, onclick: go(data.page + 1) },
            "下一页"),
        ] : []));
      } catch (e) {
        list.replaceChildren(el("p", { class: "error" }, e.message));
      } finally {
        list.removeAttribute("aria-busy");
      }
    }

    return load();
  }

  // The follow-ups page: ?community_id=&status=&kind= in the address pick what it shows.
  if (SH.config.view === "follow_ups") {
    const params = new URLSearchParams(location.search);
    const community = Number(params.get("community_id"));
    const options = {
      community_id: Number.isInteger(community) && community > 0 ? community : null,
      status: ["open", "closed", "all"].includes(params.get("status")) ? params.get("status") : "open",
      kind: Object.keys(KIND).includes(params.get("kind")) ? params.get("kind") : "",
    };
    SH.signIn({
      storageKey: "serviceHub.manager",
      check: (token) => (["manager", "admin"].includes(token.role) ? null : "该账号不能使用管理看板"),
      onSignedIn: (token) => {
        SH.$("#who").textContent = token.role === "admin" ? "管理员" : "服务经理";
        if (options.community_id) {
          SH.$("#scope").replaceChildren("仅显示一个小区的跟进 · ",
            el("a", { href: "/dashboard/follow-ups" }, "查看全部"));
        }
        mount(SH.$("#follow-ups"), options);
      },
    });
  }

  return { mount };
})();
