"""Image uploads: checked by content, stored by hash, served by URL."""
