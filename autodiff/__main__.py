"""`python -m autodiff ...` runs the command-line front end."""

from autodiff.frontend.cli import main

raise SystemExit(main())
