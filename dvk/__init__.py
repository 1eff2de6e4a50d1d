"""dvk: the ledger and document tool for the "Dân vận khéo" emulation cycle."""

__version__ = "0.1.0"
