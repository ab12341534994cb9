"""hotline: ivr.

Pure core (no I/O at call time, no asyncio):

* :mod:`ivr.menus`: YAML menu -> validated :class:`ivr.menus.Menu`, or one ``MenuError`` listing
  every problem with file, node path and line.
* :mod:`ivr.interpreter`: ``start``/``step`` state machine; results in, AGI-shaped commands out.
* :mod:`ivr.calendar`: Chinese working calendar, business hours, working-day/hour arithmetic.
* :mod:`ivr.announcements`: timed hot-topic announcements and their plain-dict form.
* :mod:`ivr.prompt_catalog`: prompt texts per language, for synthesis and the prompt check.

Adapters (AsyncAGI over AMI, Redis for announcements) live elsewhere and call into these.
"""
