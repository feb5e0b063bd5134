"""The searches: improve, frontier, diagnosis of infeasibility, equivalent offers (MESOs), robust
search, sampling of estimates, questions to ask and sensitivity.

This package deliberately re-exports nothing: ``optimizer.searches.frontier`` is the module, and
the public functions are reached through ``optimizer`` (``from optimizer import frontier``).
"""
