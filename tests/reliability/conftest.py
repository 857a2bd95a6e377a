from tests.kit.fixtures import fake_slack, slack  # noqa: F401  (pytest fixtures)
