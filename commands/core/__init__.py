"""What every command builds on but is not a command itself: the dispatcher and router, the neutral
Reply, the context, errors, parsing, formatting, people and roles, working days, forms and the Home tab.

The command modules sit one level up (`commands/<feature>`), so that folder reads as the list of
commands."""
