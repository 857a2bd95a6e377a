"""Pages of long lists: `page N` (`第N页`, `页 N`) at the end of a list command, and the More button
that fetches the next page. A chat message has room for a few dozen rows; a team with hundreds of
open tasks gets them a page at a time instead of a message the platform refuses."""
from __future__ import annotations

import re

from commands.core.errors import UsageError
from commands.core.reply import Actions, Button
from commands.i18n import t

MAX_PAGE = 100_000
_PAGE = re.compile(r"(?:^|\s|(?<=[\u4e00-\u9fff]))(?:(?:page|页|第)\s*(?P<n1>\d{1,12})\s*页?|第?\s*(?P<n2>\d{1,12})\s*页)\s*$",
                   re.IGNORECASE)


def take_page(text: str, example: str | None = None) -> tuple[int, str]:
    """'team page 3' -> (3, 'team'); '逾期 第2页' -> (2, '逾期'); no page given -> (1, text)."""
    m = _PAGE.search(text or "")
    if m is None:
        return 1, text
    n = int(m.group("n1") or m.group("n2"))
    if not 1 <= n <= MAX_PAGE:
        raise UsageError("paging.bad_page", value=m.group(0).strip(), example=example)
    return n, text[:m.start()].strip()


def offset(page: int, size: int) -> int:
    return (page - 1) * size


def more_button(lang: str, command: str, page: int, shown_until: int, total: int,
                action_id: str) -> Actions | None:
    """A More button running `command page <page+1>`, when rows are left after `shown_until`."""
    if shown_until >= total:
        return None
    label = t(lang, "paging.more", left=total - shown_until)
    nxt = f"{command} page {page + 1}"
    return Actions((Button(label=label, action_id=action_id, value=str(page + 1), command=nxt),))


def past_end(lang: str, page: int, total: int, size: int) -> str:
    pages = max(1, -(-total // size))
    return t(lang, "paging.past_end", page=page, pages=pages)
