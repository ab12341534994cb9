"""hotline: ticketing."""
