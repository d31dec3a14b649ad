"""What operators need to run eventreg on several hosts: health and readiness checks, Prometheus metrics and one
JSON log line per request and per mail attempt."""
