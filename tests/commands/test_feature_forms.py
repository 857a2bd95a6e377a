"""Every command with a form declares it whole, next to its parse/run: its fields (each labelled in
both languages), its compose function, its error map (onto its own fields) and its catalog entries.
A form added the documented way (FeatureForm as FORM, `form=True` on its router line, a [form] table
in its catalogs) is checked here without touching this file."""
from __future__ import annotations

import pytest

from commands.core import forms, router
from commands.core.form_values import FieldError
from commands.core.reply import Form
from commands.i18n import LANGS, has
from tests.commands.team_world import sales_team

FORM_ROUTES = [r for r in router.ROUTES if r.form]
HEADS = ("heading", "submit", "intro", "usage", "example")


@pytest.fixture
def chat(sqlite_uow, clock):
    return sales_team(sqlite_uow, clock)


def test_the_forms_are_the_ones_declared():
    assert {r.name for r in FORM_ROUTES} >= {"task", "progress", "resource", "goal"}
    for r in router.ROUTES:
        declared = getattr(router.module(r), "FORM", None)
        assert (declared is not None) == r.form, f"{r.name}: FORM and form=True go together"
        if r.form:
            assert isinstance(declared, forms.FeatureForm) and callable(declared.fields)
            assert callable(declared.compose)


@pytest.mark.parametrize("route", FORM_ROUTES, ids=lambda r: r.name)
def test_a_form_has_its_catalog_entries_in_both_languages(route):
    spec = forms.feature_form(route.name)
    wanted = HEADS + (("home",) if spec.home else ())
    for lang in LANGS:
        missing = [k for k in wanted if not has(lang, f"{spec.catalog}.form.{k}")]
        assert not missing, (route.name, lang, missing)
        unknown = [k for k in (*spec.errors, *spec.needs_text) if not has(lang, k)]
        assert not unknown, (route.name, lang, unknown)


@pytest.mark.parametrize("route", FORM_ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("user", ["wang", "bob"])  # zh, en
def test_a_bare_command_opens_its_form_with_every_field_labelled(chat, route, user):
    spec = forms.feature_form(route.name)
    reply = chat.say(user, f"/{route.name} {spec.opened_by}".strip())
    form = next(p for p in reply.parts if isinstance(p, Form))
    names = [f.name for f in form.fields]
    assert names and form.title and form.submit
    for f in form.fields:
        assert f.label and ".form." not in f.label, (route.name, f.name, f.label)
        assert ".form." not in f.hint + f.placeholder, (route.name, f.name)
    assert ".form." not in reply.plain(), reply.plain()  # the usage card: no raw catalog key
    # Each refusal the error map names points at one of the form's own fields.
    assert set(spec.errors.values()) <= set(names) | {forms.CHANNEL}, route.name


@pytest.mark.parametrize("route", FORM_ROUTES, ids=lambda r: r.name)
def test_compose_of_an_empty_form_names_a_field_of_it(chat, route):
    opened_by = forms.feature_form(route.name).opened_by
    form = next(p for p in chat.say("wang", f"/{route.name} {opened_by}".strip()).parts if isinstance(p, Form))
    try:
        text = forms.compose(route.name, {})
    except FieldError as e:
        assert e.field in [f.name for f in form.fields], (route.name, e.field)
        assert all(has(lang, e.key) for lang in LANGS), e.key
    else:  # nothing required: the empty form is the command's own usage error, not a crash
        assert text.startswith("/" + route.name), text
