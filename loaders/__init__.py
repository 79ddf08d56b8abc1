"""Readers of the outside world: files, NRW geography, gazetteer, demo data; they return validated records."""
