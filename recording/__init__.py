"""hotline: recording."""
