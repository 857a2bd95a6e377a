"""The sales team the trust dialog tables talk to, on a fresh SQLite database (storage is not the point).

Team 华东一组 in C-sales: wang (manager, zh), bob (manager, en), 李雷 and 韩梅梅 (reps, zh), amy (rep,
en), plus whoever `extra` adds."""
from __future__ import annotations

from tests.kit.dialog import Chat

ROSTER = [("wang", "/团队 创建 华东一组"), ("wang", "/团队 添加 @李雷 销售代表"), ("wang", "/团队 添加 @韩梅梅 销售代表"),
          ("wang", "/team add @amy rep"), ("wang", "/team add @bob manager")]
ENGLISH = [("amy", "/teambot lang en"), ("bob", "/teambot lang en")]


def sales_team(uow, clock, *extra: tuple[str, str]) -> Chat:
    chat = Chat(uow, clock)
    for user, text in [*ROSTER, *extra, *ENGLISH]:
        reply = chat.say(user, text)
        assert reply.ok, (text, reply.plain())
    return chat
