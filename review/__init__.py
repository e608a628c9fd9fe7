"""The review queue and its web UI: what finance staff look at every morning.

    settings.py   config/review.toml: SLAs per code, earned autonomy, sessions, login limits
    queue.py      filters, keyset paging, one item with its documents, candidates and chain
    actions.py    accept / choose / link / allocate / write off / duplicate / ignore / snooze /
                  assign / comment, each with optimistic locking and an audit event
    learning.py   aliases, per-counterparty autonomy, nightly auto-match figures
    auth.py       users (Argon2id), sessions, the login limit; roles.py: who may do what
    web/          FastAPI + Jinja2 (templates/), the routes and their guard
"""
