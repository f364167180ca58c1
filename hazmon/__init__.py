"""hazmon: online monitoring and early warning for major hazard sources (重大危险源)."""

__version__ = "0.1.0"
