"""Engineer ranking (pure functions), assignment, offers and their time-outs, RQ jobs."""
