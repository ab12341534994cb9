"""hotline: web."""
