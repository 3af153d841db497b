/* Engineers' mobile view: offers with a countdown, orders worked through their states with
   photos (the door, a call button and a map link while open; urges, SLA, window changes and
   second visits from mobile_promises.js), questions in my communities, visit announcements,
   my ranking and points. */
"use strict";

(() => {
  const { api, el, $ } = SH;
  const STATUS = {
    created: "已创建", dispatching: "派单中", offered: "待接单", accepted: "已接单",
    en_route: "在途", in_service: "服务中", completed: "已完成", cancelled: "已取消",
    unassigned: "未分配",
  };
  // status → [action, button text]: the order's next step for its engineer
  const NEXT = {
    accepted: ["en-route", "出发"],
    en_route: ["start", "开始服务"],
    in_service: ["complete", "完成服务"],
  };
  const POINT_REASONS = { order_completed: "完成工单", butler_order: "管家工单" };
  const MAX_PHOTOS = 9; // the complete action's photos (OrderActionSchema)
  // The states in which the order's engineer sees the resident's number in full and may call.
  const OPEN = new Set(["accepted", "en_route", "in_service"]);
  const me = { engineer: null, communities: [], services: new Map() };
  let ordersPage = 1;

  const communityName = (id) => me.communities.find((c) => c.id === id)?.name || `小区 #${id}`;
  const serviceName = (id) => me.services.get(id)?.name || `服务 #${id}`;
  /** Where to go: the door (address_text) when the order has one, else the community's street. */
  const placeText = (o) => o.address_text || [o.community_name, o.community_address]
    .filter(Boolean).join(" ");
  /** The map link: Amap, GCJ-02 coordinates, built by the server (map_url). */
  const mapLink = (o) => (o.map_url ? el("a", {
    class: "button secondary nav", href: o.map_url, target: "_blank", rel: "noopener",
  }, "导航") : null);
  const windowText = (o) => (o.window_start ? `${SH.fmtTime(o.window_start)} – ${SH.fmtTime(o.window_end)}`
    : "时间待约");
  const photoList = (urls) => (urls.length
    ? el("div", { class: "photos" }, urls.map((u) => el("img", { src: u, alt: "照片" }))) : null);
  const fail = (e) => SH.notice(e.message, "error");

  // ---- tabs ----
  const loaders = {
    offers: loadOffers, orders: () => loadOrders(1), questions: loadQuestions,
    visits: loadVisits, me: loadMe,
  };
  let current = "offers";
  // start()'s promise, set at sign-in. Every tab needs what it loads (who I am, my communities),
  // and the tabs can be tapped before it is done: a tab chosen meanwhile stays chosen and loads
  // once it can, instead of loading half-ready and being switched away by start().
  let started;
  function show(tab) {
    current = tab;
    for (const section of document.querySelectorAll("main [data-tab]")) {
      section.hidden = section.dataset.tab !== tab;
    }
    for (const button of document.querySelectorAll(".tabs [data-tab]")) {
      button.setAttribute("aria-selected", String(button.dataset.tab === tab));
    }
    started.then(() => (current === tab ? loaders[tab]() : null)).catch(fail);
  }
  for (const button of document.querySelectorAll(".tabs [data-tab]")) {
    button.addEventListener("click", () => show(button.dataset.tab));
  }

  // ---- offers ----
  function countOffers(total) {
    const badge = $("#offer-count");
    badge.hidden = !total;
    badge.textContent = total;
  }

  async function loadOffers() {
    // Each offer carries its summary (what, where, when, how far): no order fetched per offer.
    const page = await api("/engineers/me/offers", { query: { page_size: 20 } });
    countOffers(page.total);
    $("#offers").replaceChildren(...(page.items.length ? page.items.map(offerItem)
      : [el("p", { class: "muted" }, "暂无待接工单")]));
    tick();
  }

  function offerItem(offer) {
    const s = offer.summary;
    const item = el("div", { class: "item offer", dataset: { orderId: offer.order_id } },
      el("div", { class: "title" }, s.service_name,
        el("span", { class: "countdown", dataset: { expires: offer.expires_at } })),
      el("div", { class: "place" }, placeText(s)),
      el("div", { class: "muted" }, windowText(s)),
      el("div", { class: "muted" }, `距离约 ${SH.fmtNumber(s.distance_km, 1)} 公里 · #${offer.order_id}`),
      s.description ? el("div", {}, s.description) : null,
      photoList(s.photos),
      el("div", { class: "actions" }, mapLink(s)));
    const accept = el("button", { type: "button", onclick: () => answer(offer, "accept") }, "接单");
    const decline = el("button", {
      type: "button", class: "danger",
      onclick: () => {
        // A second tap within 3 s confirms: a stray tap must not lose the order.
        if (decline.dataset.armed) return answer(offer, "decline");
        decline.dataset.armed = "1";
        decline.textContent = "确认拒绝";
        setTimeout(() => { delete decline.dataset.armed; decline.textContent = "拒绝"; }, 3000);
      },
    }, "拒绝");
    item.append(el("div", { class: "actions" }, accept, decline));
    return item;
  }

  async function answer(offer, action) {
    try {
      await api(`/orders/${offer.order_id}/${action}`, { method: "POST", json: {} });
      SH.notice(action === "accept" ? "已接单" : "已拒绝");
      if (action === "accept") {
        show("orders");
        api("/engineers/me/offers", { query: { page_size: 1 } }).then((p) => countOffers(p.total));
      } else {
        await loadOffers();
      }
    } catch (e) {
      fail(e);
      loadOffers().catch(fail);
    }
  }

  /** Every second: the time left on each offer, by the server's clock. */
  function tick() {
    for (const node of document.querySelectorAll(".countdown[data-expires]")) {
      const left = SH.secondsUntil(node.dataset.expires);
      node.textContent = left > 0 ? `剩余 ${SH.fmtCountdown(left)}` : "已超时";
      node.classList.toggle("expired", left <= 0);
      if (left <= 0) node.closest(".item").querySelectorAll("button").forEach((b) => (b.disabled = true));
    }
  }
  setInterval(tick, 1000);
  setInterval(() => { if (current === "offers" && !$("#app").hidden) loadOffers().catch(() => {}); }, 20000);

  // ---- orders ----
  async function loadOrders(page) {
    ordersPage = page;
    const data = await api("/me/orders", { query: { page, page_size: 20 } });
    const items = data.items.map(orderItem);
    if (page === 1) {
      $("#orders").replaceChildren(...(items.length ? items
        : [el("p", { class: "muted" }, "暂无工单")]));
    } else {
      $("#orders").append(...items);
    }
    $("#more-orders").hidden = page * data.page_size >= data.total;
  }
  $("#more-orders").addEventListener("click", () => loadOrders(ordersPage + 1).catch(fail));

  const photosKey = (id) => `serviceHub.photos.${id}`;
  const savedPhotos = (id) => JSON.parse(sessionStorage.getItem(photosKey(id)) || "[]");

  /** Who to ask for, and while the order is open a call button with the full number. */
  function contact(order) {
    if (!order.contact_name && !order.contact_mobile) return null;
    const callable = OPEN.has(order.status) && /^\d{11}$/.test(order.contact_mobile || "");
    return el("div", { class: "contact" },
      el("span", {}, `联系人：${order.contact_name || "—"}`),
      callable ? el("a", { class: "button call", href: `tel:${order.contact_mobile}` },
        `拨打 ${order.contact_mobile}`)
        : el("span", { class: "muted" }, order.contact_mobile || ""));
  }

  function orderItem(order) {
    const next = NEXT[order.status];
    const open = OPEN.has(order.status);
    const item = el("div", { class: "item order", dataset: { orderId: order.id, status: order.status } },
      el("div", { class: "title" }, order.service_name || serviceName(order.service_type_id),
        el("span", { class: `status ${order.status}` }, STATUS[order.status] || order.status)),
      el("div", {}, `${order.community_name || communityName(order.community_id)} · #${order.id}`),
      PROMISES.urged(order),
      el("div", { class: "place" }, placeText(order)),
      ...PROMISES.details(order), // window, changes, proposal, SLA state and deadline
      contact(order),
      open ? el("div", { class: "actions" }, mapLink(order)) : null,
      order.description ? el("div", {}, order.description) : null,
      photoList(order.photos));
    // The completion checklist and note (mobile_checklist.js), then the photos.
    if (order.status === "in_service") item.append(CHECKLIST.form(order), photoPicker(order));
    if (order.status === "completed" && order.completed_at) {
      item.append(el("div", { class: "muted" }, `完成于 ${SH.fmtTime(order.completed_at)}`));
    }
    if (order.acceptance) item.append(CHECKLIST.acceptance(order)); // 待验收, 已验收, 有异议
    if (order.completion_photos?.length) {
      item.append(el("div", { class: "finished" }, el("div", { class: "muted" }, "完工照片"),
        el("div", { class: "photos" }, order.completion_photos.map((u) =>
          el("img", { src: u, alt: "完工照片" })))));
    }
    if (next) {
      item.append(el("div", { class: "actions" }, el("button", {
        type: "button", dataset: { action: next[0] }, onclick: () => act(order, next[0], item),
      }, next[1])));
    }
    const promise = PROMISES.actions(order, {
      replace: (updated) => item.replaceWith(orderItem(updated)),
      added: (visit) => {
        item.before(orderItem(visit)); // newest first, like the list
        item.append(el("div", { class: "muted" }, `已安排二次上门 #${visit.id}`));
      },
    });
    if (promise) item.append(promise);
    return item;
  }

  function photoPicker(order) {
    const shown = el("div", { class: "photos" });
    const render = () => shown.replaceChildren(...savedPhotos(order.id).map((u) =>
      el("img", { src: u, alt: "完工照片" })));
    const input = el("input", {
      type: "file", accept: "image/*", capture: "environment", class: "visually-hidden",
      onchange: async () => {
        const file = input.files[0];
        if (!file) return;
        const form = new FormData();
        form.append("file", file);
        try {
          const upload = await api("/uploads", { method: "POST", form });
          const urls = [...savedPhotos(order.id), upload.url].slice(-MAX_PHOTOS);
          sessionStorage.setItem(photosKey(order.id), JSON.stringify(urls));
          render();
          SH.notice("照片已上传");
        } catch (e) {
          fail(e);
        } finally {
          input.value = "";
        }
      },
    });
    render();
    return el("div", { class: "stack" },
      el("label", { class: "button secondary" }, `拍照上传完工照片（最多 ${MAX_PHOTOS} 张）`, input),
      shown);
  }

  async function act(order, action, item) {
    const photos = action === "complete" ? savedPhotos(order.id) : [];
    // complete: the checklist's answers and the note; null when the form says it is not done.
    const evidence = action === "complete" ? CHECKLIST.evidence(order) : {};
    if (evidence === null) return;
    try {
      const updated = await api(`/orders/${order.id}/${action}`, {
        method: "POST",
        headers: { "If-Match": `"${order.version}"` }, // someone else changed it: 412, no harm
        json: { ...(photos.length ? { photos } : {}), ...evidence },
      });
      if (action === "complete") {
        sessionStorage.removeItem(photosKey(order.id));
        CHECKLIST.done(order.id);
      }
      item.replaceWith(orderItem(updated));
      SH.notice(STATUS[updated.status] || "已更新");
    } catch (e) {
      fail(e);
      if (action === "complete") CHECKLIST.refused(order.id, e.fields);
      if (e.status === 412 || e.status === 409) loadOrders(1).catch(fail);
    }
  }

  // ---- questions ----
  async function loadQuestions() {
    const cid = Number($("#qa-community").value);
    if (!cid) {
      $("#questions").replaceChildren(el("p", { class: "muted" }, "您还没有负责的小区"));
      return;
    }
    const page = await api(`/communities/${cid}/questions`, { query: { page_size: 10 } });
    $("#questions").replaceChildren(...(page.items.length ? page.items.map(questionItem)
      : [el("p", { class: "muted" }, "该小区暂无提问")]));
  }
  $("#qa-community").addEventListener("change", () => loadQuestions().catch(fail));

  function questionItem(q) {
    let answered = q.answer_count;
    const count = el("span", { class: "muted" }, `${answered} 个回答`);
    const answers = el("div", { class: "stack" }, q.answers.map((a) =>
      el("div", { class: "answer" }, `${a.answerer?.name || "客服"}：${a.text}`)));
    const text = el("textarea", { rows: 2, maxlength: 1000, placeholder: "写下您的回答", "aria-label": "回答" });
    const send = el("button", {
      type: "button",
      onclick: async () => {
        if (!text.value.trim()) return;
        try {
          const a = await api(`/questions/${q.id}/answers`, { method: "POST", json: { text: text.value } });
          text.value = "";
          if (a.status === "held") {
            SH.notice("已提交，审核后显示");
          } else {
            answers.append(el("div", { class: "answer" }, `我：${a.text}`));
            count.textContent = `${++answered} 个回答`;
          }
        } catch (e) {
          fail(e);
        }
      },
    }, "回答");
    return el("div", { class: "item question" },
      el("div", { class: "title" }, q.text, count),
      el("div", { class: "muted" }, `${q.asker_nickname || "居民"} · ${SH.fmtTime(q.created_at)}`),
      photoList(q.photos), answers, text, el("div", { class: "actions" }, send));
  }

  // ---- visits ----
  const visitForm = $("#visit-form");
  async function loadVisits() {
    const cid = Number(visitForm.elements.community_id.value);
    if (!cid) return;
    const page = await api(`/communities/${cid}/visits`, { query: { page_size: 20 } });
    const mine = page.items.filter((v) => v.engineer_id === me.engineer.id);
    $("#visits").replaceChildren(...(mine.length ? mine.map(visitItem)
      : [el("p", { class: "muted" }, "暂无上门预告")]));
  }
  visitForm.elements.community_id.addEventListener("change", () => loadVisits().catch(fail));

  const visitItem = (v) => el("div", { class: "item visit" },
    el("div", { class: "title" }, `${SH.fmtTime(v.starts_at)} – ${SH.fmtTime(v.ends_at)}`,
      el("span", { class: "muted" }, communityName(v.community_id))),
    v.note ? el("div", {}, v.note) : null,
    el("div", { class: "muted" }, v.slots.map((s) =>
      `${SH.fmtTime(s.starts_at).slice(-5)} 已约 ${s.booked}/${s.capacity}`).join("，")));

  visitForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = Object.fromEntries(new FormData(visitForm));
    const offset = SH.zoneOffset(f.date);
    const at = (minutes) => {
      const hh = String(Math.floor(minutes / 60)).padStart(2, "0");
      return `${f.date}T${hh}:${String(minutes % 60).padStart(2, "0")}:00${offset}`;
    };
    const toMinutes = (t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
    const start = toMinutes(f.start);
    const end = toMinutes(f.end);
    const step = Number(f.minutes);
    const slots = [];
    for (let m = start; m + step <= end && slots.length < 24; m += step) {
      slots.push({ starts_at: at(m), ends_at: at(m + step), capacity: Number(f.capacity) });
    }
    if (!slots.length) return SH.notice("结束时间要晚于开始时间至少一段", "error");
    try {
      await api("/engineers/me/visits", {
        method: "POST",
        json: { community_id: Number(f.community_id), starts_at: at(start), ends_at: at(end),
          note: f.note, slots },
      });
      SH.notice(`已发布 ${slots.length} 个时段，小区居民会收到通知`);
      await loadVisits();
    } catch (e) {
      fail(e);
    }
  });

  // ---- me: points and ranking ----
  async function loadMe() {
    const points = await api("/engineers/me/points", { query: { page_size: 10 } });
    // replaceChildren takes nodes, not an array (an array would be written as its text):
    // the history is spread after the balance.
    $("#points").replaceChildren(
      el("div", { class: "points", id: "points-balance" }, points.balance),
      ...points.items.map((p) => el("div", { class: "item point" }, el("div", { class: "title" },
        `${POINT_REASONS[p.reason] || p.reason} · ${SH.fmtTime(p.created_at)}`,
        el("span", {}, `${p.points > 0 ? "+" : ""}${p.points}`)))));
    const profile = await api(`/engineers/${me.engineer.id}`);
    me.communities = profile.communities;
    // The profile has my standing per community; my place comes from each community's ranking.
    const places = await Promise.all(me.communities.map((c) => rankIn(c.id).catch(() => null)));
    $("#ranking").replaceChildren(...(me.communities.length ? me.communities.map((c, i) =>
      el("div", { class: "item" },
        el("div", { class: "title" }, c.name,
          el("span", {}, places[i] ? `第 ${places[i].rank} / ${places[i].total} 名` : "排名 100 名后")),
        el("div", { class: "muted" },
          `综合分 ${SH.fmtNumber(c.standing)} · 完成 ${c.completed_orders} 单`)))
      : [el("p", { class: "muted" }, "您还没有负责的小区")]));
  }

  async function rankIn(communityId) {
    const page = await api(`/communities/${communityId}/engineers`, { query: { page_size: 100 } });
    const index = page.items.findIndex((item) => item.engineer.id === me.engineer.id);
    return index < 0 ? null : { rank: index + 1, total: page.total };
  }

  // ---- start ----
  async function start() {
    const [engineer, services] = await Promise.all([
      api("/engineers/me"), api("/services", { query: { page_size: 100 } }),
    ]);
    me.engineer = engineer;
    me.services = new Map(services.items.map((s) => [s.id, s]));
    $("#who").textContent = `${engineer.name} 师傅`;
    const profile = await api(`/engineers/${engineer.id}`);
    me.communities = profile.communities;
    for (const select of [$("#qa-community"), visitForm.elements.community_id]) {
      select.replaceChildren(...me.communities.map((c) => el("option", { value: c.id }, c.name)));
    }
    const tomorrow = new Date(Date.now() + 86400000);
    visitForm.elements.date.value = new Intl.DateTimeFormat("en-CA", { timeZone: SH.config.timezone })
      .format(tomorrow);
  }

  SH.signIn({
    storageKey: "serviceHub.engineer",
    check: (token) => (token.engineer_id ? null : "该账号不是师傅账号"),
    onSignedIn: () => {
      started = start();
      show(location.hash.slice(1) in loaders ? location.hash.slice(1) : "offers");
    },
  });
})();
