/* One order's service report for managers, printable (GET /orders/{id}/report): what was asked
   and done, the checklist with its labels, completion photos and note, parts, times, the
   engineer, and the resident's acceptance with their signature. */
"use strict";

(() => {
  const { api, el, $, config } = SH;
  const orderId = config.order_id;
  const KIND_UNANSWERED = "未填写";
  const fullTime = new Intl.DateTimeFormat("zh-CN", {
    timeZone: config.timezone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false,
  });
  const when = (iso) => (iso ? fullTime.format(new Date(iso)) : "—");
  const TIMES = [
    ["created_at", "下单"], ["accepted_at", "接单"], ["arrived_at", "到达"],
    ["completed_at", "完工"], ["confirmed_at", "验收"], ["disputed_at", "提出异议"],
  ];

  const fact = (term, ...value) => [el("dt", {}, term), el("dd", {}, ...value)];
  const photo = (url, alt) => el("a", { href: url, target: "_blank" }, el("img", { src: url, alt }));

  /** An answer as people read it: 是/否, the number with its unit, the text, the photo. */
  function answer(item) {
    const v = item.value;
    if (v === null || v === undefined) return el("span", { class: "muted" }, KIND_UNANSWERED);
    if (item.kind === "yes_no") return el("span", { class: `verdict ${v ? "yes" : "no"}` }, v ? "是" : "否");
    if (item.kind === "number") return `${SH.fmtNumber(v, 3)}${item.unit ? ` ${item.unit}` : ""}`;
    if (item.kind === "photo") return el("span", { class: "report-photos" }, photo(v, item.label));
    return String(v);
  }

  function render(r) {
    $("#report").hidden = false;
    $("#report-order").textContent = `#${r.order_id}`;
    $("#report-generated").textContent = when(r.generated_at);
    document.title = `服务报告 #${r.order_id} · 服务中心`;
    $("#report-facts").replaceChildren(...[
      fact("服务项目", r.service_name),
      fact("小区", r.community_name),
      fact("地址", r.address_text || "—"),
      fact("需求描述", r.description || "—"),
      fact("服务师傅", r.engineer ? r.engineer.name : "—"),
    ].flat());
    $("#report-times").replaceChildren(...TIMES.filter(([key]) => key !== "disputed_at" || r.times[key])
      .flatMap(([key, term]) => fact(term, when(r.times[key]))));
    const rows = r.checklist.map((item) => el("tr", {},
      el("td", {}, item.label, item.required ? el("span", { class: "muted" }, "（必填）") : null),
      el("td", {}, answer(item))));
    $("#report-checklist").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "检查项"), el("th", { scope: "col" }, "结果"))),
      el("tbody", {}, rows.length ? rows
        : el("tr", {}, el("td", { colspan: 2, class: "muted" }, "该服务没有检查单"))));
    $("#report-note").textContent = r.completion_note || "（无完工说明）";
    $("#report-photos").replaceChildren(...(r.completion_photos.length
      ? r.completion_photos.map((url) => photo(url, "完工照片"))
      : [el("span", { class: "muted" }, "无完工照片")]));
    $("#report-parts").replaceChildren(r.parts.length
      ? el("ul", {}, r.parts.map((p) => el("li", {}, `${p.name} × ${p.quantity}`)))
      : el("span", { class: "muted" }, "未使用配件"));
    const acceptance = [fact("验收状态",
      el("span", { class: `acceptance ${r.acceptance || "none"}` }, r.acceptance_label))];
    if (r.dispute_reason) acceptance.push(fact("异议原因", r.dispute_reason));
    if (r.dispute_photos.length) {
      acceptance.push(fact("异议照片", el("span", { class: "report-photos" },
        r.dispute_photos.map((url) => photo(url, "异议照片")))));
    }
    $("#report-acceptance").replaceChildren(...acceptance.flat());
    $("#report-signature").replaceChildren(r.signature_url
      ? el("div", {}, el("div", { class: "muted" }, "业主签名"), el("img", { src: r.signature_url, alt: "业主签名" }))
      : el("span", { class: "muted" }, "无签名"));
  }

  async function load() {
    try {
      render(await api(`/orders/${orderId}/report`));
    } catch (e) {
      if (e.status === 404) $("#missing").hidden = false;
      else SH.notice(e.message, "error");
    }
  }

  $("#print").addEventListener("click", () => window.print());
  SH.signIn({
    storageKey: "serviceHub.manager",
    check: (token) => (["manager", "admin"].includes(token.role) ? null : "该账号不能使用管理看板"),
    onSignedIn: load,
  });
})();
