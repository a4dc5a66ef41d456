"""The sandbox's Harbor / MSR 4 flavor (`dtrctl sandbox --flavor harbor`).

It serves the subset of Harbor's API v2.0 (`/api/v2.0`) that dtrctl uses, Harbor's token
service (`/service/token`) and the shared /v2 registry with Harbor's immutability refusal (412).
Independent of dtrctl's client side: it has its own rule matcher.
"""
