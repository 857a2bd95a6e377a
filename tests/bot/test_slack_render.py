"""Reply -> Block Kit: content, escaping and Slack's hard limits."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.render import blocks, escape, message_payload, split_text, unescape
from commands.core.reply import Actions, Button, Fields, Image, Reply, Table, Text


def _texts(block: dict) -> list[str]:
    out = []
    if isinstance(block.get("text"), dict):
        out.append(block["text"]["text"])
    out += [f["text"] for f in block.get("fields", [])]
    for e in block.get("elements", []):
        if isinstance(e.get("text"), dict):
            out.append(e["text"]["text"])
    return out


def assert_within_limits(bs: list[dict], max_blocks: int = 50) -> None:
    assert len(bs) <= max_blocks
    json.dumps(bs)  # serialisable
    for b in bs:
        assert b["type"] in {"section", "actions", "image", "context"}
        if b["type"] == "section":
            assert "text" in b or "fields" in b
            if "text" in b:
                assert 0 < len(b["text"]["text"]) <= 3000
            assert len(b.get("fields", [])) <= 10
            for f in b.get("fields", []):
                assert 0 < len(f["text"]) <= 2000
        if b["type"] == "actions":
            assert 0 < len(b["elements"]) <= 25
            for el in b["elements"]:
                assert len(el["text"]["text"]) <= 75 and len(el["value"]) <= 2000
                assert len(el["action_id"]) <= 255 and el["action_id"].startswith("tb:")
        if b["type"] == "context":
            assert all(0 < len(e["text"]) <= 3000 for e in b["elements"])
    ids = [el["action_id"] for b in bs if b["type"] == "actions" for el in b["elements"]]
    assert len(ids) == len(set(ids)), "action_ids must be unique within a message"


def test_text_becomes_a_mrkdwn_section_with_bold_kept():
    bs = blocks(Reply.text("✅ 已记录 *进展*"))
    assert bs == [{"type": "section", "text": {"type": "mrkdwn", "text": "✅ 已记录 *进展*"}}]


def test_escaping_keeps_mentions_of_people_and_channels_and_nothing_else():
    text = "<@U123> and <@U2|li> in <#C1|sales> <!here> but not <script> & a>b <https://x.io|click>"
    out = escape(text)
    assert "<@U123>" in out and "<@U2|li>" in out and "<#C1|sales>" in out
    assert "<!" not in out and "@\u2060here" in out
    assert "&lt;script&gt;" in out and "&amp; a&gt;b" in out and "click (https://x.io)" in out
    assert "<https" not in out
    bs = blocks(Reply.text(text))
    assert bs[0]["text"]["text"] == out


def test_long_text_is_split_without_breaking_entities_or_mentions():
    text = ("销售额 & <@U12345|王伟> 签约ACME年框 " * 400).strip()
    bs = blocks(Reply.text(text))
    assert len(bs) > 1
    assert_within_limits(bs)
    joined = "".join(b["text"]["text"] for b in bs)
    assert joined.count("<@U12345|王伟>") == 400 and joined.count("&amp;") == 400
    for b in bs:
        t = b["text"]["text"]
        assert not t.endswith("&amp") and not t.endswith("<@U12345|王")


def test_split_text_hard_cuts_a_line_without_spaces():
    chunks = split_text("x" * 7000)
    assert [len(c) for c in chunks] == [3000, 3000, 1000]


def test_fields_are_chunked_by_ten():
    pairs = tuple((f"指标{i}", f"{i * 1000:,}") for i in range(23))
    bs = blocks(Reply(parts=(Fields(pairs),)))
    assert [len(b["fields"]) for b in bs] == [10, 10, 3]
    assert bs[0]["fields"][1]["text"] == "*指标1*\n1,000"


def test_table_is_preformatted_and_split_with_the_header_repeated():
    rows = tuple((f"11-{i % 30 + 1:02d}", "<@U1>", "签约ACME年框 " * 5, f"¥{i},000") for i in range(400))
    bs = blocks(Reply(parts=(Table(("时间", "成员", "进展", "销售额"), rows),)))
    assert len(bs) > 1
    assert_within_limits(bs)
    header = Reply(parts=(Table(("时间", "成员", "进展", "销售额"), rows),)).plain().split("\n")[0]
    for b in bs:
        t = b["text"]["text"]
        assert t.startswith("```\n" + header) and t.endswith("\n```")
    body_lines = sum(len(b["text"]["text"].split("\n")) - 4 for b in bs)
    assert body_lines == 400  # every row shown once (minus fences and repeated header/rule)


def test_buttons_carry_the_command_and_a_unique_prefixed_action_id():
    reply = Reply(parts=(
        Actions((Button("完成", "task_done", "12", command="/task done 12", style="primary"),
                 Button("Snooze", "task_snooze", "12", command="/task due 12 tomorrow"))),
        Actions((Button("Reject", "reject", "3", command="/resource reject 3", style="weird"),)),
    ))
    bs = blocks(reply)
    els = [el for b in bs for el in b["elements"]]
    assert els[0] == {"type": "button", "action_id": "tb:task_done:0", "value": "/task done 12",
                      "text": {"type": "plain_text", "text": "完成", "emoji": True}, "style": "primary"}
    assert els[1]["action_id"] == "tb:task_snooze:1" and "style" not in els[1]
    assert els[2]["action_id"] == "tb:reject:2" and "style" not in els[2]


def test_images_by_url_or_as_a_context_line():
    bs = blocks(Reply(parts=(Image("https://cdn.example.com/kpi.png", "KPI 图表"),
                             Image("/tmp/kpi.png", "KPI <chart>"))))
    assert bs[0] == {"type": "image", "image_url": "https://cdn.example.com/kpi.png", "alt_text": "KPI 图表"}
    assert bs[1]["type"] == "context" and "KPI &lt;chart&gt;" in bs[1]["elements"][0]["text"]
    assert "/tmp" not in json.dumps(bs)


def test_a_huge_reply_stays_within_fifty_blocks_and_says_what_was_left_out():
    parts = tuple(Text(f"第 {i} 段 " + "字" * 50) for i in range(120))
    bs = blocks(Reply(parts=parts), "zh")
    assert len(bs) == 50
    assert bs[-1]["type"] == "context" and "71" in bs[-1]["elements"][0]["text"]
    assert "未显示" in bs[-1]["elements"][0]["text"]
    en = blocks(Reply(parts=parts), "en")[-1]["elements"][0]["text"]
    both = blocks(Reply(parts=parts))[-1]["elements"][0]["text"]
    assert "71 more not shown" in en and "未显示" in both and "not shown" in both


def test_message_payload_uses_the_summary_as_fallback_text():
    reply = Reply(parts=(Text("⚠️ 金额看不懂：abc"), Text("示例：\n/progress 签约 销售额=50万")),
                  ok=False, summary="金额看不懂：abc")
    p = message_payload(reply)
    assert p["text"] == "金额看不懂：abc" and len(p["blocks"]) == 2
    plain = message_payload(Reply(parts=(Text("a < b"),)))
    assert plain["text"] == "a &lt; b"
    assert message_payload(Reply()) == {"text": " "}


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=4000)
_part = st.one_of(
    _text.map(Text),
    st.lists(st.tuples(st.text(max_size=300), st.text(max_size=2500)), max_size=25)
      .map(lambda ps: Fields(tuple(ps))),
    st.integers(1, 4).flatmap(lambda n: st.lists(
        st.lists(st.text(max_size=200), min_size=n, max_size=n).map(tuple), min_size=1, max_size=60)
        .map(lambda rows: Table(rows[0], tuple(rows[1:])))),
    st.lists(st.builds(Button, st.text(max_size=120), st.text(max_size=300), st.text(max_size=10),
                       st.text(max_size=2500), st.sampled_from([None, "primary", "danger"])),
             min_size=1, max_size=40).map(lambda bs: Actions(tuple(bs))),
    st.builds(Image, st.sampled_from(["https://x.io/a.png", "/tmp/a.png", ""]), st.text(max_size=2500)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_part, max_size=40), st.sampled_from([None, "zh", "en"]))
def test_any_reply_renders_within_slack_limits(parts, lang):
    assert_within_limits(blocks(Reply(parts=tuple(parts)), lang))
    p = message_payload(Reply(parts=tuple(parts)))
    assert 0 < len(p["text"]) <= 3000


def test_ragged_table_rows_do_not_crash():
    bs = blocks(Reply(parts=(Table(("a", "b"), (("1",), ("1", "2", "3"))),)))
    assert bs and bs[0]["text"]["text"].startswith("```")
