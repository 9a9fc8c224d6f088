"""Errors and warnings, all reported in one format: ``path:line: level: message``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int | None
    level: str  # "error" | "warning" | "note" (news, not a problem: a scheduled post)
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.level}: {self.message}"


class SiteError(Exception):
    """A problem with one input file (or the site as a whole), located by path and line."""

    def __init__(self, message: str, path: str = "", line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(self.path, self.line, "error", self.message)

    def __str__(self) -> str:
        return str(self.diagnostic())


class PostError(SiteError):
    """A post that cannot be built; the other posts still are."""


class SkippedSource(PostError):
    """A source sitegen knowingly does not build (say, a page that needs Liquid it does not
    run): reported as a warning, so that no file is left out without a word."""

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(self.path, self.line, "warning", self.message)


class ConfigError(SiteError):
    """The site's configuration is invalid; nothing can be built."""


@dataclass
class Report:
    """Everything that went wrong or looked odd during one build, in order."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    # the same diagnostics as a set: a site with a warning in each of a thousand posts
    # would otherwise compare every new one with all before it
    _seen: set[Diagnostic] = field(default_factory=set, repr=False, compare=False)

    def add(self, diagnostic: Diagnostic) -> None:
        if len(self._seen) != len(self.diagnostics):  # the list was changed directly
            self._seen = set(self.diagnostics)
        if diagnostic not in self._seen:
            self._seen.add(diagnostic)
            self.diagnostics.append(diagnostic)

    def error(self, path: str, line: int | None, message: str) -> None:
        self.add(Diagnostic(path, line, "error", message))

    def warning(self, path: str, line: int | None, message: str) -> None:
        self.add(Diagnostic(path, line, "warning", message))

    def note(self, path: str, line: int | None, message: str) -> None:
        self.add(Diagnostic(path, line, "note", message))

    def add_level(self, level: str, path: str, line: int | None, message: str) -> None:
        self.add(Diagnostic(path, line, "error" if level == "error" else "warning", message))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "warning"]
