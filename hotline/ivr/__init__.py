"""hotline: ivr.

Pure core (no I/O at call time, no asyncio):

* :mod:`hotline.ivr.menus`: YAML menu -> validated :class:`hotline.ivr.menus.Menu`, or one ``MenuError`` listing
  every problem with file, node path and line.
* :mod:`hotline.ivr.interpreter`: ``start``/``step`` state machine; results in, AGI-shaped commands out.
* :mod:`hotline.kernel.calendar`: Chinese working calendar, business hours, working-day/hour arithmetic.
* :mod:`hotline.ivr.announcements`: timed hot-topic announcements and their plain-dict form.
* :mod:`hotline.ivr.prompt_catalog`: prompt texts per language, for synthesis and the prompt check.

Adapters (AsyncAGI over AMI, Redis for announcements) live elsewhere and call into these.
"""
