"""`python -m autodiff ...` runs the command-line front end."""

from autodiff.cli import main

raise SystemExit(main())
