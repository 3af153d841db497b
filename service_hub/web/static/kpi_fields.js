/* KPI fields for people, as the API describes them. The KPI list's OpenAPI row schema gives
   each field its Chinese label, one-line definition, kind and whether higher is better
   (service_hub/kpis/measures.py: KPIS, the one place they are written), and the page config
   carries them (service_hub/web/contract.py). A field the API sends that the contract does
   not describe still shows, by its name; an object field (e.g. {"orders": …}) becomes one
   column per key. */
"use strict";

const KPI = (() => {
  const contract = SH.config.kpi || {};
  const fields = contract.fields || {};
  const warningKinds = contract.warnings || {};
  const order = contract.field_order || Object.keys(fields);

  /** {key, label, kind, definition, higherIsBetter} of a field; kind "context" is no column. */
  function describe(key) {
    const field = fields[key];
    if (!field) return { key, label: key, kind: "number", definition: null, higherIsBetter: null };
    return {
      key, label: field.label, kind: field.kind, definition: field.definition,
      higherIsBetter: field.higher_is_better,
    };
  }

  /** Columns for rows: described fields first (in the schema's order), then any others. */
  function columns(rows) {
    const seen = new Map();
    for (const row of rows) {
      for (const [key, value] of Object.entries(row)) {
        const about = describe(key);
        if (about.kind === "context") continue;
        if (value && typeof value === "object" && !Array.isArray(value)) {
          for (const sub of Object.keys(value)) {
            const child = describe(sub);
            seen.set(`${key}.${sub}`, {
              key: `${key}.${sub}`, label: `${about.label}·${child.label}`,
              kind: about.kind === "change" ? "change" : child.kind,
              definition: about.definition, higherIsBetter: child.higherIsBetter,
            });
          }
        } else if (!seen.has(key)) {
          seen.set(key, about);
        }
      }
    }
    const place = (c) => {
      const index = order.indexOf(c.key.split(".")[0]);
      return index < 0 ? order.length : index;
    };
    return [...seen.values()].sort((a, b) => place(a) - place(b));
  }

  /** Columns the contract describes, for a table with no rows yet. */
  const knownColumns = () => order.map(describe).filter((c) => c.kind !== "context");

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

  /** "最好"/"最差" for a KPI with a direction, "最高"/"最低" for one without. */
  const rankWords = (column) =>
    column.higherIsBetter == null ? ["最高", "最低"] : ["最好", "最差"];

  /** The API order that lists the best (or, for a KPI without direction, highest) first. */
  const bestOrder = (column) => (column.higherIsBetter === false ? "asc" : "desc");

  /** Text of one health warning: a code, or an object with a message, kind or code. */
  function warningText(w) {
    if (typeof w !== "object" || w === null) return warningKinds[w]?.label || String(w);
    const kind = w.kind || w.code || w.type;
    const head = w.message_zh || warningKinds[kind]?.label || w.message || kind || "预警";
    const rest = Object.entries(w).filter(
      ([k]) => !["kind", "code", "type", "message", "message_zh"].includes(k));
    return rest.length ? `${head}（${rest.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join("，")}）`
      : head;
  }

  /** A warning as a tag whose tooltip says what it means. */
  const warningTag = (w) => SH.el("span", {
    class: "tag warn", title: (typeof w === "string" && warningKinds[w]?.definition) || null,
  }, warningText(w));

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

  /** The legend: every KPI's label and one-line definition, and the warnings'. */
  function legend() {
    const entries = knownColumns().map((c) => [c.label, c.definition]);
    for (const kind of Object.values(warningKinds)) entries.push([kind.label, kind.definition]);
    return SH.el("dl", { class: "legend" }, entries.filter(([, d]) => d).map(([label, d]) =>
      SH.el("div", {}, SH.el("dt", {}, label), SH.el("dd", {}, d))));
  }

  return {
    describe, columns, knownColumns, value, format, numericColumns, rankWords, bestOrder,
    warningText, warningTag, renderWarnings, legend,
  };
})();
