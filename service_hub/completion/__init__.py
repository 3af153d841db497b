"""Completion evidence and the resident's acceptance (完工验收): service types' checklists, the
engineer's answers, the resident's confirmation or dispute, and the service report."""
