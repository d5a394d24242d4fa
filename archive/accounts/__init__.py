"""The municipality's accounts: the accounts file (file.py), the channel register (register.py) and
closed channels (closures.py)."""

from .file import load_accounts

__all__ = ["load_accounts"]
