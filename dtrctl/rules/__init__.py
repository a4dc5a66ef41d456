"""Immutability rules people can read: `explain` (why a tag is or is not immutable) and `rules
lint` (what is wrong with a project's Harbor rules), online or from a file of rules.

Above the backends, beside `repos/` and `push_check/`: it asks the backend, and Harbor's rule
logic in `dtrctl.backends.harbor` decides; no terminal here.
"""
