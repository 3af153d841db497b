"""Butler binding (管家关系): a resident scans an engineer's code and binds to them."""
