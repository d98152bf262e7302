"""The command line: the safe expression parser and the `autodiff` console script,
the one place that uses both autodiff and nn."""
