"""Service orders: creation, the state machine, the timeline, reviews."""
