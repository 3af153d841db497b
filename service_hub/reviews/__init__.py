"""Reviews, likes and follow-ups: what residents say of engineers, and what managers do."""
