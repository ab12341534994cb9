"""The lab, the demo and the call simulator.

Not part of the production service: nothing that ``hotline run`` loads imports it (import-linter).
"""
