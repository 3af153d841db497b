"""Residents' address books: doors in their bound communities, and the copy an order keeps."""
