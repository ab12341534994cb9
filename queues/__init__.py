"""hotline: queues."""
