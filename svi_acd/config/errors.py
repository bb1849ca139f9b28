"""The error a configuration that cannot be used raises, apart from the model (light to import:
the command line catches it before it knows which command will load the settings)."""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` holds one French line per mistake."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source} : " + "; ".join(problems))

    def report(self) -> str:
        lines = [f"Configuration invalide ({self.source}) :"]
        lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)
