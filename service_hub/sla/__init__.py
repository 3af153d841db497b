"""Promises kept (SLA): deadlines, states, the periodic check, staff alerts, second visits."""
