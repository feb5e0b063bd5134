"""The scenario: its models, values and tolerances, utility evaluation, files and GENIUS import.

The leaf of the package: nothing here imports the engine, the searches, the reports or the CLI.
"""
