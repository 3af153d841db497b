"""Engineer visits to communities and the follow-on slots residents book on them (接续排期)."""
