"""The command line (``dealopt`` / ``python -m optimizer``): one module per command.

The entry point is ``optimizer.cli.main:main``; this package re-exports nothing, so that
``optimizer.cli.main`` is always the module.
"""
