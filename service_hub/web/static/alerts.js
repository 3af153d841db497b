/* Staff alerts for managers (GET /staff/alerts): orders of my region that missed a deadline, or
   that nobody can take before their acceptance deadline. Unread first (unread_only=true, page by
   page), then the read ones of the last 30 days; each links to its order page, and following
   the link marks it read (POST /staff/alerts/read), as does 标为已读 or 全部标为已读. */
"use strict";

(() => {
  const { api, el, $ } = SH;
  const KIND = { sla_breached: "超时", unassigned_at_risk: "无人接单" };
  const PAGE_SIZE = 20;
  // Where the list has got to: the unread pages first, then every alert, skipping those shown.
  let feed;

  const announce = (unread) => {
    $("#alert-summary").textContent = unread ? `${unread} 条未读` : "没有未读提醒";
    $("#read-all").disabled = !unread;
    document.dispatchEvent(new CustomEvent("alerts:unread", { detail: unread })); // nav.js
  };

  async function markRead(ids) {
    const result = await api("/staff/alerts/read", { method: "POST", json: ids ? { ids } : {} });
    announce(result.unread);
    return result;
  }

  function showRead(li) {
    li.classList.replace("unread", "read");
    li.querySelector("button.mark")?.remove();
  }

  function item(alert) {
    const li = el("li", { class: alert.read ? "read" : "unread", dataset: { alertId: alert.id } });
    const text = alert.order_id
      ? el("a", { class: "alert-text", href: `/dashboard/orders/${alert.order_id}` }, alert.text)
      : el("span", { class: "alert-text" }, alert.text);
    if (alert.order_id) {
      text.addEventListener("click", async (event) => {
        if (li.classList.contains("read")) return;
        const plain = event.button === 0 && !(event.ctrlKey || event.metaKey || event.shiftKey);
        if (!plain) { // a new tab: this page stays, so mark it without waiting
          markRead([alert.id]).then(() => showRead(li)).catch(() => {});
          return;
        }
        event.preventDefault(); // read first, so the order page's badge counts it
        await markRead([alert.id]).catch(() => {});
        location.assign(text.href);
      });
    }
    li.append(
      el("span", { class: `tag ${alert.kind}` }, KIND[alert.kind] || alert.kind),
      text,
      el("a", { href: `/dashboard/communities/${alert.community_id}` },
        alert.community_name || `小区 #${alert.community_id}`),
      el("time", { class: "muted" }, SH.fmtTime(alert.created_at)));
    if (!alert.read) {
      li.append(el("button", {
        type: "button", class: "link mark",
        onclick: () => markRead([alert.id]).then(() => showRead(li))
          .catch((e) => SH.notice(e.message, "error")),
      }, "标为已读"));
    }
    return li;
  }

  /** About a page more of the feed: unread pages until they run out, then all alerts' pages,
      leaving out those shown already (so the read ones follow the unread on the same page). */
  async function more() {
    const fresh = [];
    while (fresh.length < PAGE_SIZE && feed.phase !== "done") {
      const unreadOnly = feed.phase === "unread";
      const page = await api("/staff/alerts", {
        query: { unread_only: unreadOnly || undefined, page: feed.page, page_size: PAGE_SIZE },
      });
      if (feed.page === 1 && unreadOnly) announce(page.unread);
      for (const a of page.items.filter((a) => !feed.shown.has(a.id))) {
        feed.shown.add(a.id);
        fresh.push(a);
      }
      if (feed.page * page.page_size < page.total) {
        feed.page += 1;
      } else {
        Object.assign(feed, unreadOnly ? { phase: "all", page: 1 } : { phase: "done" });
      }
    }
    $("#alerts").append(...fresh.map(item));
    $("#more-alerts").hidden = feed.phase === "done";
    if (!$("#alerts").children.length) {
      $("#alerts").append(el("li", { class: "muted" }, "近 30 天没有提醒"));
    }
  }

  function load() {
    feed = { phase: "unread", page: 1, shown: new Set() };
    $("#alerts").replaceChildren();
    return more().catch((e) => SH.notice(e.message, "error"));
  }

  $("#more-alerts").addEventListener("click", () => more().catch((e) => SH.notice(e.message, "error")));
  $("#read-all").addEventListener("click", async () => {
    try {
      await markRead(null);
      document.querySelectorAll("#alerts li.unread").forEach(showRead);
    } catch (e) {
      SH.notice(e.message, "error");
    }
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
