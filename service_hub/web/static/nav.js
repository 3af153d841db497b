/* The managers' top bar (templates/web/_manager_nav.html): the unread alerts badge on 提醒,
   from GET /staff/alerts?unread_only=true&page_size=1 (its `unread`). Loaded deferred, so it
   runs after the page's own script has wired sign-in; it reads once the page is shown (signed
   in), every minute while it stays so, and at once when a page says the count changed (the
   alerts page, after marking alerts read, dispatches "alerts:unread" with the new count). */
"use strict";

(() => {
  const badge = document.getElementById("alert-count");
  const app = document.getElementById("app");
  if (!badge || !app) return;
  const REFRESH_MS = 60000;

  function show(unread) {
    badge.hidden = !unread;
    badge.textContent = unread >= 1000 ? "999+" : String(unread); // the API counts up to 1,000
    badge.title = `${unread} 条未读提醒`;
  }

  async function refresh() {
    if (app.hidden) return;
    try {
      const page = await SH.api("/staff/alerts", { query: { unread_only: true, page_size: 1 } });
      show(page.unread);
    } catch {
      // The badge is a hint: the page's own calls report what is wrong (and a 401 signs out).
    }
  }

  document.addEventListener("alerts:unread", (event) => show(event.detail));
  new MutationObserver(refresh).observe(app, { attributes: true, attributeFilter: ["hidden"] });
  setInterval(refresh, REFRESH_MS);
  refresh();
})();
