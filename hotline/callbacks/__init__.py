"""Callbacks and voice reminders (issue 5): keep-my-place callbacks, reminder calls, satisfaction
follow-up calls and department deadline reminders.

Pure core (no I/O, no asyncio, ``now`` passed in as epoch seconds):

    numbers.py    mainland number validation and normalisation
    model.py      plain data: jobs (outbound calls), attempts, outcomes, callback requests
    policy.py     reminder scheduling: calling windows, holidays, retry gaps, caps, outcome mapping
    keepplace.py  keep-my-place callback requests: one open per number+queue, virtual position
    importer.py   CSV rows -> jobs plus a per-row error report

Adapters:

    store.py      Redis: jobs and callback requests survive a restart (idempotent ids)
    dialler.py    the outbound dialler component (one timer task, AMI Originate, outcomes)
    api.py        the provider object the web app mounts at /api/reminders and /api/callbacks
    cli.py        ``hotline reminders ...`` and ``hotline callbacks ...``
    settings.py   the ``callbacks:`` config section
"""
