"""Giải báo chí: press-award submission and judging portal."""
