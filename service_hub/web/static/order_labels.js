/* The order pages' words: states, SLA, sources, timeline actions, dispatch reasons and
   error codes in Chinese, and small formatters. A value not listed shows as it is. */
"use strict";

const ORDER = (() => {
  const STATUS = {
    created: "已创建", dispatching: "派单中", offered: "待接单", accepted: "已接单",
    en_route: "在途", in_service: "服务中", completed: "已完成", cancelled: "已取消",
    unassigned: "未派出",
  };
  const WAITING = ["created", "dispatching", "offered", "unassigned"];
  const OPEN = [...WAITING, "accepted", "en_route", "in_service"];
  const SLA = { on_track: "正常", at_risk: "有风险", breached: "已超时" };
  const SOURCE = { mini_program: "小程序", visit_booking: "接续预约", phone: "电话", proactive: "主动服务" };
  const ACTION = {
    create: "创建", dispatch: "开始派单", offer: "派单", unassign: "无人可派", expire: "派单超时",
    accept: "接单", decline: "拒单", en_route: "出发", start: "开始服务", complete: "完成服务",
    complain: "投诉", cancel: "取消", assign: "手动指派", redispatch: "重新派单", book: "预约时段",
    urge: "催单", reschedule: "改约", propose_window: "师傅提议改约", accept_window: "业主接受新时间",
    decline_window: "业主拒绝新时间", second_visit: "二次上门", revisit: "二次上门派回原师傅",
    confirm: "业主验收", dispute: "验收异议", auto_confirm: "自动验收",
  };
  // The resident's acceptance of completed work (完工验收).
  const ACCEPTANCE = { pending: "待验收", confirmed: "已验收", auto_confirmed: "已自动验收", disputed: "有异议" };
  const ACTOR = { resident: "居民", engineer: "师傅", manager: "服务经理", admin: "管理员", system: "系统" };
  const REJECTION = {
    does_not_serve_community: "不服务该小区", lacks_skill: "不具备该技能",
    skill_level_too_low: "技能等级不足", off_duty: "未在岗", outside_working_hours: "不在工作时间",
    at_max_load: "已达接单上限", already_offered: "已派过此单", no_engineer_serves_community: "小区无师傅",
  };
  const COMPONENT = { standing: "小区口碑", distance: "距离", load: "当前负荷", preferred: "指定师傅", butler: "管家" };
  // What a bulk or one-click action's refusal means, when the answer has no message_zh.
  const ERROR = {
    illegal_transition: "当前工单状态不允许此操作", order_not_found: "工单不存在或不在您的区域",
    not_serving_community: "该师傅不服务此工单的小区", concurrent_update: "工单刚被更新，请重试",
    version_mismatch: "工单已变化，已重新加载", outside_region: "该师傅不在您负责的区域",
  };

  const label = (table, value) => (value === null || value === undefined ? "—" : table[value] || value);
  const errorText = (error) => (error && (ERROR[error.code] || error.message_zh || error.message)) || "失败";

  /** "3 天 2 小时", "2 小时 5 分", "12 分钟": how long an order has waited. */
  function fmtAge(minutes) {
    if (minutes === null || minutes === undefined) return "—";
    if (minutes >= 1440) return `${Math.floor(minutes / 1440)} 天 ${Math.floor(minutes / 60) % 24} 小时`;
    if (minutes >= 60) return `${Math.floor(minutes / 60)} 小时 ${minutes % 60} 分`;
    return `${minutes} 分钟`;
  }

  /** "06-21 10:00–12:00": a service window in local time. */
  function fmtWindow(start, end) {
    if (!start) return "未约时间";
    const from = SH.fmtTime(start);
    if (!end) return from;
    const to = SH.fmtTime(end);
    return to.slice(0, 5) === from.slice(0, 5) ? `${from}–${to.slice(-5)}` : `${from} – ${to}`;
  }

  return {
    STATUS, WAITING, OPEN, SLA, SOURCE, ACTION, ACTOR, REJECTION, COMPONENT, ACCEPTANCE,
    label, errorText, fmtAge, fmtWindow,
  };
})();
