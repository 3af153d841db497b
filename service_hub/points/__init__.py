"""Points: append-only ledgers for engineers (and residents), balances derived from them."""
