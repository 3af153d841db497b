"""Coupons that differ per community (千区千面): campaigns, targeting, atomic claims, redemption."""
