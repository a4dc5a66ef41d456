"""The records the backend interface speaks: repositories and tags, push-check's facts, settings
and their changes, outcomes and audit findings.

The bottom layer with `errors`, `reference` and `text`: it imports nothing else of dtrctl, so
every layer above (client, auth, backends, push_check, repos, cli) may use it.
"""
