/* The completion checklist (完工检查单) on an engineer's in-service order card: the service
   type's items as a form (GET /orders/{id}/checklist: yes/no, a number with its unit and range,
   a text, a photo taken and uploaded here) with the completion note, kept in sessionStorage
   until sent; completing sends them (the complete action's `answers` and `note`), and a
   required item left empty or a number out of range stops it here first, as the server would.
   The resident's answer on a completed card (待验收, 已验收, 有异议). mobile.js draws the card. */
"use strict";

const CHECKLIST = (() => {
  const { api, el } = SH;
  const ACCEPTANCE = {
    pending: "待业主验收", confirmed: "业主已验收", auto_confirmed: "已自动验收", disputed: "业主有异议",
  };
  const loaded = new Map(); // order id → its items (the form, once loaded)
  const draftKey = (id) => `serviceHub.checklist.${id}`;
  const draft = (id) => JSON.parse(sessionStorage.getItem(draftKey(id)) || '{"answers": {}, "note": ""}');
  const keep = (id, changes) => sessionStorage.setItem(draftKey(id),
    JSON.stringify({ ...draft(id), ...changes }));
  const setAnswer = (id, key, value) => keep(id, { answers: { ...draft(id).answers, [key]: value } });

  /** What is wrong with an answer, as the server words it; null when it is fine. */
  function problem(item, value) {
    if (value === null || value === undefined || value === "") return item.required ? "此项必填" : null;
    if (item.kind !== "number") return null;
    const unit = item.unit ? ` ${item.unit}` : "";
    const low = item.min_value;
    const high = item.max_value;
    if ((low !== null && low !== undefined && value < low) || (high !== null && high !== undefined && value > high)) {
      if (low !== null && low !== undefined && high !== null && high !== undefined) return `应在 ${low}–${high}${unit} 之间`;
      return low !== null && low !== undefined ? `不能小于 ${low}${unit}` : `不能大于 ${high}${unit}`;
    }
    return null;
  }

  function yesNo(order, item, value) {
    const name = `cl-${order.id}-${item.key}`;
    const choice = (v, text) => el("label", { class: "choice" },
      el("input", {
        type: "radio", name, value: String(v), checked: value === v,
        onchange: () => setAnswer(order.id, item.key, v),
      }), text);
    return el("div", { class: "choices", role: "radiogroup" }, choice(true, "是"), choice(false, "否"));
  }

  function number(order, item, value) {
    const range = [item.min_value, item.max_value].some((v) => v !== null && v !== undefined)
      ? `${item.min_value ?? ""}–${item.max_value ?? ""}` : "";
    return el("input", {
      type: "number", step: "any", inputmode: "decimal", min: item.min_value, max: item.max_value,
      value: value ?? "", placeholder: [range, item.unit].filter(Boolean).join(" "),
      "aria-label": item.label,
      oninput: (event) => setAnswer(order.id, item.key,
        event.target.value === "" ? null : Number(event.target.value)),
    });
  }

  function text(order, item, value) {
    return el("input", {
      type: "text", maxlength: 200, value: value ?? "", "aria-label": item.label,
      oninput: (event) => setAnswer(order.id, item.key, event.target.value),
    });
  }

  function photo(order, item, value) {
    const shown = el("div", { class: "photos" }, value ? el("img", { src: value, alt: item.label }) : null);
    const input = el("input", {
      type: "file", accept: "image/*", capture: "environment", class: "visually-hidden",
      onchange: async () => {
        const file = input.files[0];
        if (!file) return;
        const form = new FormData();
        form.append("file", file);
        try {
          const upload = await api("/uploads", { method: "POST", form });
          setAnswer(order.id, item.key, upload.url);
          shown.replaceChildren(el("img", { src: upload.url, alt: item.label }));
        } catch (e) {
          SH.notice(e.message, "error");
        } finally {
          input.value = "";
        }
      },
    });
    return el("div", { class: "stack" }, el("label", { class: "button secondary" }, "拍照上传", input), shown);
  }

  const INPUTS = { yes_no: yesNo, number, text, photo };

  function field(order, item, value) {
    return el("div", { class: "check-item", dataset: { key: item.key } },
      el("div", { class: "check-label" }, item.label,
        item.unit ? el("span", { class: "muted" }, `（${item.unit}）`) : null,
        item.required ? el("span", { class: "required", title: "必填" }, " *") : null),
      (INPUTS[item.kind] || text)(order, item, value),
      el("div", { class: "error", role: "alert" }));
  }

  /** The form of an in-service order: loads its items, then fills in what was kept. */
  function form(order) {
    const box = el("div", { class: "checklist stack", dataset: { orderId: order.id } },
      el("div", { class: "muted" }, "正在加载完工检查单…"));
    api(`/orders/${order.id}/checklist`).then((checklist) => {
      loaded.set(order.id, checklist.items);
      const kept = draft(order.id);
      const saved = Object.fromEntries(checklist.items.map((i) => [i.key, i.value]));
      const values = { ...saved, ...kept.answers };
      const note = el("textarea", {
        rows: 2, maxlength: 500, placeholder: "完工说明：做了什么、换了什么", "aria-label": "完工说明",
        oninput: (event) => keep(order.id, { note: event.target.value }),
      });
      note.value = kept.note || checklist.note || "";
      box.replaceChildren(
        checklist.items.length ? el("div", { class: "title" }, "完工检查单") : null,
        ...checklist.items.map((item) => field(order, item, values[item.key])),
        note);
    }).catch((e) => box.replaceChildren(el("div", { class: "error" }, e.message)));
    return box;
  }

  /** Show a message per item (ours, or the server's `answers.<key>`); clear the others. */
  function showProblems(orderId, problems) {
    const box = document.querySelector(`.checklist[data-order-id='${orderId}']`);
    if (!box) return;
    for (const node of box.querySelectorAll(".check-item")) {
      const message = problems[node.dataset.key];
      node.classList.toggle("missing", Boolean(message));
      node.querySelector(".error").textContent = message || "";
    }
  }

  /** What complete sends ({answers, note}), or null (with the problems shown) when the form
      says it would be refused. Before the form has loaded, nothing: the server decides. */
  function evidence(order) {
    const items = loaded.get(order.id);
    if (!items) return {};
    const kept = draft(order.id);
    const saved = Object.fromEntries(items.map((i) => [i.key, i.value]));
    const values = { ...saved, ...kept.answers };
    const problems = {};
    const answers = {};
    for (const item of items) {
      const value = typeof values[item.key] === "string" ? values[item.key].trim() : values[item.key];
      const wrong = problem(item, value);
      if (wrong) problems[item.key] = wrong;
      else if (value !== null && value !== undefined && value !== "") answers[item.key] = value;
    }
    showProblems(order.id, problems);
    if (Object.keys(problems).length) {
      const first = items.find((i) => problems[i.key]);
      SH.notice(`请完成检查单：${first.label}${problems[first.key]}`, "error");
      return null;
    }
    const note = (kept.note || "").trim();
    return { answers, ...(note ? { note } : {}) };
  }

  /** After a refused complete: the server's per-item messages on the form. */
  function refused(orderId, fields) {
    const problems = {};
    for (const [name, messages] of Object.entries(fields || {})) {
      if (name.startsWith("answers.")) problems[name.slice(8)] = messages.join("；");
    }
    showProblems(orderId, problems);
  }

  /** After complete: what was kept is sent and done with. */
  function done(orderId) {
    sessionStorage.removeItem(draftKey(orderId));
    loaded.delete(orderId);
  }

  /** The resident's answer to completed work, on its card. */
  function acceptance(order) {
    if (!order.acceptance) return null;
    return el("div", { class: `acceptance ${order.acceptance}` }, ACCEPTANCE[order.acceptance] || order.acceptance,
      order.dispute_reason ? el("span", {}, `：${order.dispute_reason}`) : null);
  }

  return { form, evidence, refused, done, acceptance };
})();
