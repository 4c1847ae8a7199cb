"""Pretraining data pipeline steps on datatrove: code and Japanese text filters, crash-isolated parsing, PII."""
