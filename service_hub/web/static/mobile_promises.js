/* The promises on an engineer's order card (docs/sla.md): urges (已催单), the SLA state and the
   next deadline, window changes with the resident's reason, a pending proposal; and the two
   things an engineer does about them: propose a new window (propose-window, accepted orders)
   and book a second visit (second-visit, completed orders). mobile.js draws the card. */
"use strict";

const PROMISES = (() => {
  const { api, el } = SH;
  const SLA_BADGE = { at_risk: "即将超时", breached: "已超时" };
  // status → [deadline field, its words]: the step the order is at and by when it must be done
  const DEADLINE = {
    created: ["accept_due_at", "接单截止"], dispatching: ["accept_due_at", "接单截止"],
    offered: ["accept_due_at", "接单截止"], unassigned: ["accept_due_at", "接单截止"],
    accepted: ["arrive_due_at", "到达截止"], en_route: ["arrive_due_at", "到达截止"],
    in_service: ["complete_due_at", "完工截止"],
  };
  const windowOf = (start, end) => `${SH.fmtTime(start)} – ${SH.fmtTime(end)}`;

  /** A moment as a datetime-local input shows it: "2026-06-21T10:00" in the configured zone. */
  function localInput(moment) {
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
      timeZone: SH.config.timezone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(moment)).map((p) => [p.type, p.value]));
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
  }
  /** A datetime-local value, read in the configured zone, as the API takes it (with offset). */
  const apiTime = (value) => `${value}:00${SH.zoneOffset(value.slice(0, 10))}`;

  /** The urge banner, shown first on the card: how often and when the resident last urged. */
  function urged(order) {
    if (!order.urge_count) return null;
    return el("div", { class: "urged", role: "status" }, `已催单 ${order.urge_count} 次`,
      order.last_urged_at ? el("span", {}, ` · 最近 ${SH.fmtTime(order.last_urged_at)}`) : null);
  }

  /** The window (with 已改约 N 次), the resident's reason, a pending proposal, SLA and deadline. */
  function details(order) {
    const lines = [el("div", { class: "muted window" },
      order.window_start ? windowOf(order.window_start, order.window_end) : "时间待约",
      order.reschedule_count
        ? el("span", { class: "rescheduled" }, ` · 已改约 ${order.reschedule_count} 次`) : null)];
    if (order.reschedule_count) lines.push(rescheduleReason(order));
    if (order.proposed_window_start) {
      lines.push(el("div", { class: "proposal" },
        `已提议新时间 ${windowOf(order.proposed_window_start, order.proposed_window_end)}，等待业主确认`));
    }
    const [field, words] = DEADLINE[order.status] || [];
    const badge = SLA_BADGE[order.sla_state];
    if (field && (order[field] || badge)) {
      lines.push(el("div", { class: "deadline" },
        badge ? el("span", { class: `sla-badge ${order.sla_state}` }, badge) : null,
        order[field] ? el("span", {}, `${words} ${SH.fmtTime(order[field])}`) : null));
    }
    if (order.parent_order_id) {
      lines.push(el("div", { class: "muted" }, `二次上门 · 原工单 #${order.parent_order_id}`));
    }
    return lines;
  }

  /** The reason of the last reschedule, from the order's timeline (GET /orders/{id}). */
  function rescheduleReason(order) {
    const line = el("div", { class: "reschedule-reason muted", hidden: true });
    api(`/orders/${order.id}`).then((detail) => {
      const last = detail.timeline.filter((e) => e.action === "reschedule" && e.reason).pop();
      if (!last) return;
      line.textContent = `改约原因：${last.reason}`;
      line.hidden = false;
    }).catch(() => {}); // the count is shown already; the reason is a courtesy
    return line;
  }

  /** Start and end pickers (native datetime-local, local time), filled with `start`/`end`. */
  function windowInputs(start, end, required) {
    const now = localInput(Date.now());
    const input = (name, value) => el("input", {
      type: "datetime-local", name, min: now, required, value: value ? localInput(value) : null,
    });
    return [
      el("label", {}, "开始", input("start", start)),
      el("label", {}, "结束", input("end", end)),
    ];
  }

  /** The window a form holds, as the API takes it; null when left empty; throws a message. */
  function windowFrom(form, required) {
    const start = form.elements.start.value;
    const end = form.elements.end.value;
    if (!start && !end && !required) return null;
    if (!start || !end) throw new Error("请选择开始和结束时间");
    if (end <= start) throw new Error("结束时间要晚于开始时间");
    if (start < localInput(Date.now())) throw new Error("新的时间不能早于现在");
    return { window_start: apiTime(start), window_end: apiTime(end) };
  }

  /** A button that opens a small form on the card; `submit(form)` posts it. */
  function formButton(text, fields, submitText, submit) {
    const error = el("p", { class: "error", role: "alert" });
    const form = el("form", { class: "promise-form", hidden: true }, ...fields, error,
      el("div", { class: "actions" },
        el("button", { type: "submit" }, submitText),
        el("button", { type: "button", class: "secondary", onclick: () => (form.hidden = true) }, "取消")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await submit(form);
      } catch (e) {
        error.textContent = e.message; // the API's message_zh, or ours before sending
      } finally {
        button.disabled = false;
      }
    });
    const open = el("button", {
      type: "button", class: "secondary", onclick: () => (form.hidden = !form.hidden),
    }, text);
    return el("div", { class: "stack promise" }, el("div", { class: "actions" }, open), form);
  }

  const post = (order, action, json) => api(`/orders/${order.id}/${action}`, {
    method: "POST", json, headers: { "If-Match": `"${order.version}"` },
  });

  /**
   * What the engineer can do about the order's promises, or null: 提议改约 on an accepted order
   * (the API takes a proposal before the engineer sets off), 二次上门 on a completed one.
   * `shown.replace(order)` redraws this card; `shown.added(order)` shows a new order.
   */
  function actions(order, shown) {
    if (order.status === "accepted") {
      const start = order.proposed_window_start || order.window_start;
      const end = order.proposed_window_end || order.window_end;
      return formButton("提议改约", windowInputs(start, end, true), "发送提议", async (form) => {
        const updated = await post(order, "propose-window", windowFrom(form, true));
        SH.notice("已提议新时间，等待业主确认");
        shown.replace(updated);
      });
    }
    if (order.status === "completed") {
      const reason = el("textarea", {
        name: "reason", rows: 2, maxlength: 300, placeholder: "例如：配件到货后再来更换",
      });
      const fields = [el("label", {}, "原因", reason), el("div", { class: "muted" }, "上门时间（可选）"),
        ...windowInputs(null, null, false)];
      return formButton("二次上门", fields, "安排二次上门", async (form) => {
        const text = reason.value.trim();
        if (!text) throw new Error("请填写二次上门的原因");
        const visit = await post(order, "second-visit", { reason: text, ...windowFrom(form, false) });
        SH.notice(`已安排二次上门 #${visit.id}`);
        form.hidden = true;
        form.reset();
        shown.added(visit);
      });
    }
    return null;
  }

  return { urged, details, actions };
})();
