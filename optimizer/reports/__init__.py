"""Reports: trade explanations, the progress summary, the negotiation log and proposal documents."""
