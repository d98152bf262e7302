"""Readers of a recorded graph: they take the graph and the rule table as they are
and explain (chain_rule), check (gradcheck) or draw (drawing, frames) it."""
