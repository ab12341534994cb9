"""hotline: ivr."""
