import pytest
from storage import migrate
from storage.db import make_engine
from tests.kit.fixtures import SlackHarness

@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path}/t.db"
    e = make_engine(url); migrate.upgrade(e); e.dispose()
    return url

def test_smoke(slack):
    a = slack.slash("/nosuch", "hello")
    print(a.status, a.body)
    a = slack.slash("/team", "setup 华东一组", user="U1", channel="C1")
    print(a.status, a.body)
    a = slack.slash("/team", "add <@U2|li> rep", user="U1", channel="C1")
    print(a.status, a.text)
    a = slack.slash("/progress", "签约ACME年框 销售额=50万 新客户=1", user="U1", channel="C1")
    print(a.status, a.text)
    a = slack.slash("/progress", "list", user="U1", channel="C1")
    print(a.status, a.text)
    print(slack.fake.calls())
    print(slack.counts())
