"""Penalties, appeals, tenant-configured fines and the monthly fine ledger (domain §4, §5)."""
