"""Per-community monthly KPIs: rollups kept as events happen, and the manager's API."""
