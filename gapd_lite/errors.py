"""The package's own errors: each names the problem and, where there is one, the fix."""
from __future__ import annotations


class GapdError(Exception):
    """Base class so callers can catch every gapd_lite error in one place."""


class SExprError(GapdError, ValueError):
    """A logical form that does not parse or is not well formed; carries the character position."""

    def __init__(self, message: str, text: str | None = None, pos: int | None = None):
        self.text, self.pos, self.reason = text, pos, message
        if text is not None and pos is not None:
            shown = text if len(text) <= 120 else text[max(0, pos - 60): pos + 60]
            caret = pos if len(text) <= 120 else min(pos, 60)
            message = f"{message} (at character {pos})\n  {shown}\n  {' ' * caret}^"
        super().__init__(message)


class LiteralError(GapdError, ValueError):
    """A typed literal whose lexical form does not fit its datatype."""


class ConversionError(GapdError, ValueError):
    """A logical form that parses but cannot be turned into actions or SPARQL."""


class ActionError(GapdError, ValueError):
    """Model-written action text that is not a valid action (shown to the agent as an observation)."""


class KBError(GapdError):
    """A knowledge-base problem: missing file, bad id, backend failure."""


class UnknownTermError(KBError, ValueError):
    """A logical form that names an entity, relation or class the KB does not have."""


class EndpointError(KBError):
    """A SPARQL endpoint that is down, slow or answers with an error."""


class DataError(GapdError, ValueError):
    """A question file that is missing, empty or not in a format we read."""


class ConfigError(GapdError, ValueError):
    """A bad configuration value, CLI flag or notebook parameter."""


class CheckpointError(GapdError):
    """A run folder that cannot be resumed safely: a checkpoint we refuse to load, a log or state we cannot read."""


def require_positive(config, *names: str) -> None:
    """Raise ConfigError naming the first field of `config` that is not a positive integer."""
    for name in names:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{type(config).__name__}.{name}={value!r}: must be a positive integer")
