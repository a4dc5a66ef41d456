"""The DTR / MSR 2.x-3.x backend: repositories with one immutability flag, under `/api/v0`."""
