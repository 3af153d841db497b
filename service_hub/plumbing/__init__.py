"""Plumbing: the bottom layer every other layer may use and which uses none of them.

The database and its extensions (extensions, db_setup, sql), the job queue and the
transactional outbox (jobqueue, outbox), the one error shape (errors), time and place
(timefmt, geo), configuration (config), and the HTTP guards every blueprint shares
(ratelimit, idempotency, pagination, body_guard, csv_export). docs/architecture.md, "Layers".
"""
