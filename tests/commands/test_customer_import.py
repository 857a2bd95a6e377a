"""`teambot import customers FILE --team <name> [--apply]`: the sheet a team already keeps.

A real database (SQLite and PostgreSQL), real files in the encodings Excel writes (GBK, UTF-8 with and
without BOM), the command line's own entry point. Team 华东一组: wang (manager), 李雷 and amy (reps).
"""
from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.config import Settings
from bot.import_cli import import_customers
from bot.wiring import wire
from storage.customer_queries import record_actuals
from storage.models import Customer, CustomerStageChange
from tests.kit.dialog import Chat

ZH_SHEET = """客户名称,联系人,手机,阶段,负责人,来源,金额,备注
杭州云帆科技有限公司,陈总,138-0000-1111,初步接触,李雷,展会,,老客户
宁波海纳贸易,王经理,+86 139 0000 2222,需求确认,,转介绍,5万,
杭州 云帆科技,陈总,,线索,李雷,,,同一家
上海启明（中国）有限公司,刘总,13900002222,方案报价,amy,,12万,电话和第2行一样
苏州远景,赵总,不详,线索,李雷,,,
苏州远景二号,赵总,,进行中,李雷,,,
无锡天和,孙总,,输单,李雷,,,
常州大成,周总,13700003333,商务谈判,张三,,,
南京栖霞软件,吴总,13700004444,赢单,wang,官网,"￥250,000",
"""


@pytest.fixture
def world(db_url, clock):
    w = wire(Settings(database_url=db_url), clock=clock, upgrade=False)
    chat = Chat(w.uow, clock)
    for user, line in [("wang", "/团队 创建 华东一组"), ("wang", "/团队 添加 @李雷 销售代表"),
                       ("wang", "/team add @amy rep"), ("wang", "/团队 添加 @韩梅梅 客户经理")]:
        assert chat.say(user, line).ok
    yield w, chat
    w.engine.dispose()


@pytest.fixture
def w(world):
    return world[0]


def _run(w, path, *, apply=False, team="华东一组", lang=None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = import_customers(w, str(path), team, apply=apply, lang=lang, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _customers(w) -> list[tuple]:
    with w.uow() as u:
        return [(c.name, c.phone, c.stage, c.owner_id, c.amount) for c in
                u.session.scalars(select(Customer).order_by(Customer.id))]


def test_a_gbk_sheet_is_previewed_then_imported_once(w, tmp_path):
    path = tmp_path / "客户.csv"
    path.write_bytes(ZH_SHEET.encode("gbk"))
    code, out, err = _run(w, path)
    assert code == 0 and err == "", err
    assert "导入预览（还没有写入）" in out and "GBK" in out
    assert "新增 3 行" not in out and "新客户 3 行 · 重复 2 行 · 有问题 4 行" in out, out
    assert "第 4 行 杭州 云帆科技：与第 2 行是同一个客户" in out
    assert "第 5 行 上海启明（中国）有限公司：与第 3 行是同一个客户" in out
    assert "第 6 行：电话“不详”不像电话号码" in out
    assert "第 7 行：阶段“进行中”不认识" in out
    assert "第 8 行：输单需要写原因" in out
    assert "第 9 行：负责人“张三”不是这个团队的成员" in out
    assert "备注" in out  # the column it did not use is named
    assert "--apply" in out
    assert _customers(w) == []  # a dry run writes nothing

    code, out, _ = _run(w, path, apply=True)
    assert code == 0 and "已导入" in out
    assert _customers(w) == [
        ("杭州云帆科技有限公司", "138-0000-1111", "contacted", "李雷", None),
        ("宁波海纳贸易", "+86 139 0000 2222", "qualified", None, 50_000),
        ("南京栖霞软件", "13700004444", "won", "wang", 250_000),
    ]
    with w.uow() as u:
        history = u.session.scalars(select(CustomerStageChange.by)).all()
    assert history == ["teambot-import"] * 3
    with w.uow() as u:  # last year's wins in a sheet are not this month's KPIs
        assert record_actuals(u.session, 1, ["qualified", "won", "won_amount"],
                              datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)) == {}

    code, out, _ = _run(w, path, apply=True)  # again: nothing twice
    assert code == 0 and "新客户 0 行 · 重复 5 行" in out, out
    assert "已有客户 #1 杭州云帆科技有限公司（负责人 @李雷）" in out
    assert "已有客户 #2 宁波海纳贸易（在公海" in out
    assert len(_customers(w)) == 3


def test_an_english_sheet_with_a_bom_reports_in_english(w, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes("\ufeffCompany,Contact,Phone,Stage,Owner,Source\n"
                     "ACME Ltd.,Jane,+86 138 0000 9999,proposal,amy,web\n"
                     "acme,Joe,,lead,,\n".encode("utf-8"))
    code, out, _ = _run(w, path, apply=True, lang="en")
    assert code == 0
    assert "Imported" in out and "UTF-8" in out
    assert "1 new customer row(s) · 1 duplicate(s) · 0 row(s) with problems" in out
    assert "line 3 acme: the same customer as line 2" in out
    assert _customers(w) == [("ACME Ltd.", "+86 138 0000 9999", "proposal", "amy", None)]


@pytest.mark.parametrize("content, says", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xfd", "既不是 UTF-8 也不是 GBK"),
    ("联系人,电话\n陈总,13800001111\n".encode(), "找不到客户名称这一列（表头是：联系人、电话）"),
    (b"", "文件里没有任何内容"),
])
def test_a_file_that_is_not_a_customer_sheet_is_refused_with_what_to_do(w, tmp_path, content, says):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    code, out, err = _run(w, path, apply=True)
    assert code == 2 and out == "" and says in err, err
    assert "Traceback" not in err and _customers(w) == []


def test_an_unknown_team_lists_the_teams(w, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("客户名称\n云帆\n".encode())
    code, _, err = _run(w, path, team="华南组")
    assert code == 2 and "没有叫“华南组”的团队" in err and "1 华东一组" in err


def test_the_command_line_imports_into_the_configured_database(w, tmp_path, monkeypatch, capsys):
    path = tmp_path / "客户.csv"
    path.write_bytes("公司,电话,负责人\n杭州云帆,13800001111,李雷\n".encode("gbk"))
    monkeypatch.setenv("TEAMBOT_DATABASE_URL", w.settings.database_url)
    monkeypatch.chdir(tmp_path)
    assert main(["import", "customers", str(path), "--team", "华东一组"]) == 0
    assert _customers(w) == []
    assert main(["import", "customers", str(path), "--team", "华东一组", "--apply"]) == 0
    assert "已导入" in capsys.readouterr().out
    with w.uow() as u:
        assert u.session.scalar(select(func.count()).select_from(Customer)) == 1


def _exported(chat, user: str, line: str) -> list[list[str]]:
    import csv

    from commands.core.reply import File
    reply = chat.say(user, line)
    (file,) = [p for p in reply.parts if isinstance(p, File)]
    with open(file.path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_the_customer_export_holds_what_the_caller_may_see_and_reads_back_in(world, tmp_path, monkeypatch):
    w, chat = world
    monkeypatch.setenv("TEAMBOT_EXPORT_DIR", str(tmp_path / "out"))
    for user, line in [("wang", "/客户 新建 杭州云帆科技 电话=13800001111 负责人=@李雷"),
                       ("李雷", "/客户 新建 宁波海纳 电话=13900002222"),
                       ("amy", "/customer add ACME phone=13700003333"),
                       ("wang", "/客户 新建 =HYPERLINK(\"http://x\") 负责人=公海")]:
        assert chat.say(user, line).ok, line
    rows = _exported(chat, "wang", "/teambot 导出 客户")
    assert rows[0][:8] == ["编号", "客户名称", "联系人", "电话", "阶段", "负责人", "来源", "金额"]
    assert [(r[1], r[3], r[4], r[5]) for r in rows[1:]] == [
        ("杭州云帆科技", "13800001111", "线索", "李雷"), ("宁波海纳", "13900002222", "线索", "李雷"),
        ("ACME", "13700003333", "线索", "amy"), ("'=HYPERLINK(\"http://x\")", "", "线索", "公海")]
    mine = _exported(chat, "李雷", "/teambot 导出 客户")  # a rep: their own and the pool
    assert [(r[1], r[3]) for r in mine[1:]] == [("杭州云帆科技", "13800001111"), ("宁波海纳", "13900002222"),
                                                ("'=HYPERLINK(\"http://x\")", "")]
    am = _exported(chat, "韩梅梅", "/teambot 导出 客户")  # sees the team, not the numbers
    assert len(am) == 5 and all("13800001111" not in r[3] and "•" in r[3] for r in am[1:4])
    en = _exported(chat, "amy", "/teambot export customers")
    assert [r[1] for r in en[1:]] == ["ACME", "'=HYPERLINK(\"http://x\")"]

    sheet = tmp_path / "back.csv"
    with open(sheet, "w", encoding="utf-8-sig", newline="") as f:
        import csv
        csv.writer(f).writerows(rows[:4])
    code, out, _ = _run(w, sheet, apply=True)
    assert code == 0 and "新客户 0 行 · 重复 3 行 · 有问题 0 行" in out, out
