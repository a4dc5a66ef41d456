"""Repository administration without a terminal: settings, selections, bulk runs, policy files
and audits."""
