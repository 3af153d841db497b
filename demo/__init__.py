"""The demo: a seeded demo city and a fake WeChat, kept out of the product packages.

`demo` sits above the app: it imports service_hub, models and dispatch; nothing in them
imports it, except `service_hub.cli.register_cli`, which registers the `flask demo` and
`flask seed-demo` commands from `demo.commands`. Tests and bench use it too.

- `demo.seed`: `seed_demo`, the demo city (Shanghai): a year of order history
  (`demo.history`), second visits (`demo.second_visits`), the orders open at its "now" in
  every queue (`demo.live_orders`), SLA deadlines, urges and breaches (`demo.promises`),
  address books (`demo.addresses`), follow-ups and held reviews (`demo.follow_ups`),
  checklists, completion evidence and the residents' acceptance (`demo.acceptance`).
- `demo.extras`: likes, points, upcoming activities, community Q&A (some held), and
  broadcasts and coupon campaigns (`demo.outreach`) on top of it.
- `demo.names`: what the city looks like (districts, names, texts), pure data and helpers.
- `demo.fake_wechat`: our fake of the WeChat server API, on loopback.
- `demo.commands`: `flask demo` and `flask seed-demo`.
"""
