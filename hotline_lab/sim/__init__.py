"""hotline.sim: the traffic simulator (plans are pure; runners drive SIPp)."""
