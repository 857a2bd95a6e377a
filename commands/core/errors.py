from __future__ import annotations


class UsageError(Exception):
    """Input the user can fix. Carries a catalog key and its arguments, never final text,
    so the message is rendered in the caller's language."""

    def __init__(self, key: str, example: str | None = None, **args):
        super().__init__(key)
        self.key = key
        self.args_ = args
        #: Catalog key of a correct example (defaults to the command's usage example).
        self.example = example
        #: A close real word for what was typed ("did you mean sales?"), shown after the message.
        self.suggestion: str | None = None
        #: The command and keyword the example should be written with (the user's own form).
        self.typed_command: str | None = None
        self.typed_keyword: str | None = None

    def with_example(self, example: str) -> UsageError:
        """Name the example for an error raised deeper down (a date parser knows no command), unless
        it already has one: `raise e.with_example("tasks.example_due") from None`."""
        if self.example is None:
            self.example = example
        return self

    def suggesting(self, word: str | None) -> UsageError:
        """Add "did you mean <word>?" (nothing when word is None)."""
        self.suggestion = word
        return self


class Refused(UsageError):
    """The input is fine but the caller may not do this (permission, state)."""
