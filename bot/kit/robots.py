"""A team's group robot (DingTalk custom robot, WeCom group robot) and how a sender finds it."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Robot:
    """A group robot: its webhook URL and, for DingTalk's signed robots, the `SEC...` secret."""
    webhook: str
    secret: str | None = None


#: channel id -> the team's robot, or None (the sender then uses the app's own way into the group).
RobotLookup = Callable[[str], Robot | None]


class StaticRobots:
    """Robots from configuration or a test: {channel id: Robot}."""

    def __init__(self, robots: Mapping[str, Robot] | None = None):
        self._robots = dict(robots or {})

    def __call__(self, channel_id: str) -> Robot | None:
        return self._robots.get(channel_id)

    def set(self, channel_id: str, robot: Robot) -> None:
        self._robots[channel_id] = robot
