"""hotline: speech."""
