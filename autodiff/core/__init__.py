"""The engine: Value, the rule table, the float math it runs on, the grad modes,
the backward pass and higher-order derivatives."""
