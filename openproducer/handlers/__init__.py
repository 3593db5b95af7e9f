"""One module per command; each handler is a function of a `Turn` (see `turn`)."""
