"""Push pre-flight checks: the expected content, the concurrent gathering of facts, verdicts,
and the CI reports."""
