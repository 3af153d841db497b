/* The staff review queue (GET /moderation/held): held questions, answers and reviews of my
   region, oldest first. Questions and answers are approved or rejected with a reason
   (POST /{questions|answers}/{id}/approve|reject); reviews are approved or hidden with a
   reason (POST /reviews/{id}/approve|hide). */
"use strict";

(() => {
  const { api, el, $ } = SH;
  const KIND = { question: "提问", answer: "回答", review: "评价" };
  // Per kind: [decision path, button text] to publish and to refuse.
  const DECISIONS = {
    question: [["approve", "通过"], ["reject", "驳回"]],
    answer: [["approve", "通过"], ["reject", "驳回"]],
    review: [["approve", "通过"], ["hide", "隐藏"]],
  };
  const PAGE_SIZE = 20;
  let kind = "";

  function item(h, reload) {
    const [[publish, publishText], [refuse, refuseText]] = DECISIONS[h.kind];
    const error = el("p", { class: "error", role: "alert" });
    const reason = el("input", { name: "reason", maxlength: 300, placeholder: "驳回或隐藏的原因（必填）",
      "aria-label": "原因" });
    const decide = (decision) => async () => {
      error.textContent = "";
      if (decision === refuse && !reason.value.trim()) {
        error.textContent = "请填写原因";
        return;
      }
      try {
        await api(`/${h.kind}s/${h.id}/${decision}`,
          { method: "POST", json: { reason: reason.value.trim() || null } });
        SH.notice(decision === publish ? "已通过" : `已${refuseText}`);
        reload();
      } catch (e) {
        error.textContent = e.message;
      }
    };
    const context = h.kind === "review" ? `工单 #${h.order_id} · ${"★".repeat(h.rating)}${"☆".repeat(5 - h.rating)}`
      : h.kind === "answer" ? `回答问题 #${h.question_id}` : "";
    return el("article", { class: "item held", dataset: { kind: h.kind, id: h.id } },
      el("div", { class: "title" },
        el("span", {}, el("span", { class: "tag" }, KIND[h.kind] || h.kind), " ",
          el("a", { href: `/dashboard/communities/${h.community_id}` }, h.community_name)),
        el("span", { class: "muted" }, SH.fmtTime(h.created_at))),
      context ? el("p", { class: "muted" }, context) : null,
      el("blockquote", { class: "said" }, h.text || el("span", { class: "muted" }, "（无文字）")),
      h.photos.length ? el("div", { class: "photos" }, h.photos.map((src) =>
        el("a", { href: src, target: "_blank", rel: "noopener" }, el("img", { src, alt: "图片" })))) : null,
      el("div", { class: "actions" },
        el("button", { type: "button", onclick: decide(publish) }, publishText),
        reason,
        el("button", { type: "button", class: "danger", onclick: decide(refuse) }, refuseText)),
      error);
  }

  async function load(page = 1) {
    try {
      const data = await api("/moderation/held", { query: { page, page_size: PAGE_SIZE, kind } });
      $("#held-total").textContent = `共 ${data.total} 条`;
      const reload = () => load(page);
      $("#held").replaceChildren(...(data.items.length ? data.items.map((h) => item(h, reload))
        : [el("p", { class: "muted" }, "没有待审核的内容")]));
      const pages = Math.max(1, Math.ceil(data.total / data.page_size));
      $("#held-pager").replaceChildren(...(pages > 1 ? [
        el("button", { type: "button", disabled: page <= 1, onclick: () => load(page - 1) }, "上一页"),
        el("span", {}, `第 ${page} / ${pages} 页`),
        el("button", { type: "button", disabled: page >= pages, onclick: () => load(page + 1) }, "下一页"),
      ] : []));
    } catch (e) {
      SH.notice(e.message, "error");
    }
  }

  $("#held-kind").addEventListener("change", (event) => {
    kind = event.target.value;
    load();
  });
  SH.signIn({
    storageKey: "serviceHub.manager",
    check: (token) => (["manager", "admin"].includes(token.role) ? null : "该账号不能使用管理看板"),
    onSignedIn: (token) => {
      $("#who").textContent = token.role === "admin" ? "管理员" : "服务经理";
      load();
    },
  });
})();
