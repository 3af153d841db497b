"""Notification templates, channels, the transactional outbox and fan-out jobs."""
