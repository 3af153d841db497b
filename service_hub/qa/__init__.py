"""Community Q&A: residents ask, engineers and customer service answer, moderated."""
