"""The engine: the scenario lowered into a MILP (PuLP), the solvers behind it, the numpy fast path,
solution concepts and the result models every search returns.
"""
