"""Plant gateway broker accounts: Mosquitto password file and per-gateway ACL lines.

Used by `hazmon gateway add|rotate|revoke` (`hazmon.ingest.accounts.cli`).
"""
