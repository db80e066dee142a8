"""Getting data in: one module per input format, one writer for all of them.

Every import is validated before anything is written, written in one transaction, and
idempotent: importing the same file twice changes nothing.
"""
