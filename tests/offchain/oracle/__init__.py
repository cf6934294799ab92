"""Oracle tests (a package, so that its conftest is not the top-level ``conftest`` module)."""
