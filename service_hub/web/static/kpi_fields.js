/* The one place that names KPI fields for people. A field the API sends that is not listed
   here still shows, labelled by its OpenAPI description or its name; an object field
   (e.g. {"orders": …, "complaints": …}) becomes one column per key. */
"use strict";

const KPI_FIELDS = [
  // [field, label, kind]; kind: "text", "count", "number", "rate" (0.1 → 10%),
  // "change" (环比/同比 as a fraction: 0.1 → +10%), "list" (shown as a count)
  ["community_name", "小区", "text"],
  ["tier", "等级", "text"],
  ["household_count", "户数", "count"],
  ["orders", "订单量", "count"],
  ["completed", "完成", "count"],
  ["cancelled", "取消", "count"],
  ["complaints", "投诉", "count"],
  ["orders_per_1000", "千户服务量", "number"],
  ["complaints_per_1000", "千户投诉量", "number"],
  ["orders_mom", "服务量环比", "change"],
  ["orders_yoy", "服务量同比", "change"],
  ["orders_per_1000_mom", "千户服务量环比", "change"],
  ["complaints_mom", "投诉量环比", "change"],
  ["complaints_yoy", "投诉量同比", "change"],
  ["complaints_per_1000_mom", "千户投诉量环比", "change"],
  ["average_rating", "平均评分", "number"],
  ["accept_minutes", "平均接单分钟", "number"],
  ["on_time_rate", "准时到达率", "rate"],
  ["active_residents", "活跃居民", "count"],
  ["satisfaction_index", "满意度指数", "number"],
  ["health_warnings", "预警", "list"],
];

// Health warning kinds, if the API sends codes rather than Chinese text.
const WARNING_LABELS = {
  falling_volume: "服务量下降",
  rising_complaints: "投诉上升",
  low_rating: "评分偏低",
  no_engineer_active: "无活跃师傅",
};

// Identifiers and context, never columns of their own.
const KPI_HIDDEN = new Set(["community_id", "month"]);

const KPI = (() => {
  const known = new Map(KPI_FIELDS.map(([key, label, kind]) => [key, { key, label, kind }]));
  const descriptions = (SH.config.kpi && SH.config.kpi.fields) || {};

  function describe(key) {
    return known.get(key) || { key, label: descriptions[key] || key, kind: "number" };
  }

  /** Columns for rows: listed fields first (in list order), then any others as they come. */
  function columns(rows) {
    const seen = new Map();
    for (const row of rows) {
      for (const [key, value] of Object.entries(row)) {
        if (KPI_HIDDEN.has(key)) continue;
        if (value && typeof value === "object" && !Array.isArray(value)) {
          for (const sub of Object.keys(value)) {
            const parent = describe(key);
            const child = describe(sub);
            seen.set(`${key}.${sub}`, {
              key: `${key}.${sub}`, label: `${parent.label}·${child.label}`,
              kind: parent.kind === "change" ? "change" : child.kind,
            });
          }
        } else if (!seen.has(key)) {
          seen.set(key, describe(key));
        }
      }
    }
    const order = (c) => {
      const index = KPI_FIELDS.findIndex(([k]) => k === c.key.split(".")[0]);
      return index < 0 ? KPI_FIELDS.length : index;
    };
    return [...seen.values()].sort((a, b) => order(a) - order(b));
  }

  const value = (row, key) => key.split(".").reduce((v, k) => (v == null ? v : v[k]), row);

  /** Text for one cell. */
  function format(column, v) {
    if (v === null || v === undefined) return "—";
    if (Array.isArray(v)) return v.length ? String(v.length) : "—";
    if (typeof v === "object") return JSON.stringify(v);
    if (typeof v !== "number") return String(v);
    if (column.kind === "rate") return `${SH.fmtNumber(v * 100, 1)}%`;
    if (column.kind === "change") return `${v > 0 ? "+" : ""}${SH.fmtNumber(v * 100, 1)}%`;
    return SH.fmtNumber(v);
  }

  /** Numeric columns of a series, for the trend chart's picker. */
  const numericColumns = (rows) =>
    columns(rows).filter((c) => rows.some((r) => typeof value(r, c.key) === "number"));

  /** Text of one health warning: a string, or an object with a message, kind or code. */
  function warningText(w) {
    if (typeof w !== "object" || w === null) return WARNING_LABELS[w] || String(w);
    const kind = w.kind || w.code || w.type;
    const head = w.message_zh || WARNING_LABELS[kind] || w.message || kind || "预警";
    const rest = Object.entries(w).filter(
      ([k]) => !["kind", "code", "type", "message", "message_zh"].includes(k));
    return rest.length ? `${head}（${rest.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join("，")}）`
      : head;
  }

  /** A warnings list for a container; `undefined` means the API has no such field yet. */
  function renderWarnings(box, items, emptyText) {
    box.replaceChildren();
    if (items === undefined) {
      box.append(SH.el("p", { class: "placeholder" },
        "健康预警尚未提供：接口返回 health_warnings 字段后，预警会显示在这里。"));
    } else if (!items.length) {
      box.append(SH.el("p", { class: "muted" }, emptyText));
    } else {
      box.append(SH.el("ul", { class: "warnings" }, items));
    }
  }

  return { columns, value, format, describe, numericColumns, warningText, renderWarnings };
})();
