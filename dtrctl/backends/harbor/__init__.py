"""The MSR 4 / Harbor backend: immutability as Harbor's per-project tag immutability rules."""
