"""Files of the repository a new user meets: .gitignore after the README's own commands."""

from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_virtual_environment_the_readme_makes_is_ignored():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    if "python -m venv .venv" in readme or "python3 -m venv .venv" in readme:
        assert ".venv/" in ignored
    assert ".venv/" in ignored and "venv/" in ignored


def test_the_readme_does_not_point_outside_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme and "/work/" not in readme
