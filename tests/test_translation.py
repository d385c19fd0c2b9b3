# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Translations of the shared records on a secondary.

The primary, with French, imports countries (pycountry gives their French
names) and names a party category in English and French.  The secondary is
set up with the setup wizard, which copies the primary's model data and the
translations of the shared records; its French users then read the shared
records in French.  The primary is the source of truth: a translation
edited on the secondary shows as drift and the next copy replaces it.
"""
import pytest

from trytond.modules.shared_schema import translation
from trytond.modules.shared_schema.plan import TRANSLATION_VIEW

from . import harness
from .test_import_scripts import Pair, import_countries

SHARED = 'public'
CATEGORY = (
    "Category = Model.get('party.category')\n"
    "category, = Category.find([])\n")
AS_FRENCH_USER = (
    "import sys\n"
    "config.set_trytond(sys.argv[2], user='marie', config_file=sys.argv[3])\n"
    "assert config.get_config().context['language'] == 'fr'\n")
COPY = (
    "copy = Wizard('shared_schema.copy_model_data')\n"
    "sql = copy.form.sql\n"
    "copy.execute('run')\n"
    "result = {'sql': sql, 'report': copy.form.report}\n")


def drift(instance):
    with instance.connect() as conn, conn.cursor() as cursor:
        return translation.drift(cursor, SHARED)


def differences(instance):
    with instance.connect() as conn, conn.cursor() as cursor:
        return translation.differences(cursor, SHARED)


def plan_copy(instance):
    with instance.connect() as conn, conn.cursor() as cursor:
        return translation.plan_copy(cursor, SHARED)


def shared_translations(instance):
    "The instance's translations of the shared records, sorted"
    return sorted(instance.execute(
            "SELECT name, res_id, lang, src, value, module, fuzzy, "
            "overriding_module FROM ir_translation "
            "WHERE type = 'model' AND res_id > 0 "
            "AND split_part(name, ',', 1) IN ("
            "SELECT name FROM public.shared_schema_primary_model)"),
        key=repr)


def french_names(instance):
    return instance.proteus(AS_FRENCH_USER + CATEGORY
        + "Country = Model.get('country.country')\n"
        "Subdivision = Model.get('country.subdivision')\n"
        "germany, = Country.find([('code', '=', 'DE')])\n"
        "antwerp, = Subdivision.find([('code', '=', 'BE-VAN')])\n"
        "result = [germany.name, antwerp.name, category.name]\n")


@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    with harness.Cluster() as cluster:
        pair = Pair(cluster, tmp_path_factory.mktemp('i18n'), 'i18n')
        pair.setup_primary(['fr'])
        import_countries(pair.primary)
        pair.primary.proteus(
            "Category = Model.get('party.category')\n"
            "category = Category(name='Customer')\n"
            "category.save()\n"
            "with config.get_config().set_context(language='fr'):\n"
            "    category = Category(category.id)\n"
            "    category.name = 'Client'\n"
            "    category.save()\n")
        pair.setup_report = pair.setup_secondary(['fr'])
        for instance in [pair.primary, pair.secondary]:
            instance.proteus(
                "Lang = Model.get('ir.lang')\n"
                "User = Model.get('res.user')\n"
                "french, = Lang.find([('code', '=', 'fr')])\n"
                "User(login='marie', name='Marie', language=french).save()\n")
        yield pair


def test_setup_copies_translations(pair):
    "The setup wizard of the secondary copies the translations"
    assert 'Translations of the shared records copied' in pair.setup_report
    rows = shared_translations(pair.secondary)
    assert ('country.country,name', 'fr', 'Allemagne') in {
        (r[0], r[2], r[4]) for r in rows}


def test_french_user_reads_french_names(pair):
    "A French user of the secondary reads shared records in French"
    assert french_names(pair.secondary) == ['Allemagne', 'Anvers', 'Client']
    assert pair.secondary.proteus(CATEGORY
        + "Country = Model.get('country.country')\n"
        "germany, = Country.find([('code', '=', 'DE')])\n"
        "result = [germany.name, category.name]\n") == ['Germany', 'Customer']


def test_copy_twice_changes_nothing(pair):
    "After a copy the secondary has the primary's translations exactly"
    pair.secondary.proteus(COPY)
    before = shared_translations(pair.secondary)
    keys = [r[:3] for r in before]
    assert len(keys) == len(set(keys))
    assert before == sorted(pair.secondary.execute(
            'SELECT name, res_id, lang, src, value, module, fuzzy, '
            'overriding_module FROM public.%s' % TRANSLATION_VIEW),
        key=repr)
    assert drift(pair.secondary) == {
        'missing': 0, 'stale': 0, 'conflicts': 0, 'local': 0,
        'unknown_modules': {}}
    assert plan_copy(pair.secondary).statements == []
    second = pair.secondary.proteus(COPY)
    assert second['sql'] == '-- Nothing to do.'
    assert ('Translations of the shared records copied from the primary: '
        '0 rows copied, 0 rows removed') in second['report']
    assert shared_translations(pair.secondary) == before


def test_secondary_edit_drifts_and_primary_wins(pair):
    """A French name edited on the secondary shows in drift and the next
    copy gives the primary's back"""
    pair.secondary.proteus(
        "with config.get_config().set_context(language='fr'):\n    "
        + CATEGORY.replace('\n', '\n    ')
        + "category.name = 'Client VIP'\n"
        "    category.save()\n")
    assert french_names(pair.secondary)[2] == 'Client VIP'
    counts = drift(pair.secondary)
    assert counts['conflicts'] == 1 and counts['stale'] == 1
    assert counts['missing'] == 1 and counts['local'] == 0
    difference, = differences(pair.secondary)
    assert difference['name'] == 'party.category,name'
    assert difference['lang'] == 'fr'
    assert difference['value'] == 'Client VIP'
    assert difference['primary_value'] == 'Client'
    # Nothing reaches the primary.
    assert french_names(pair.primary)[2] == 'Client'

    plan = plan_copy(pair.secondary)
    assert 'edited on this instance' in plan.render()
    report = pair.secondary.proteus(COPY)['report']
    assert '1 rows copied, 1 rows removed (1 of them edited' in report
    assert french_names(pair.secondary)[2] == 'Client'
    assert differences(pair.secondary) == []
    # The running servers of the secondary forget their cached translations
    assert pair.secondary.execute(
        "SELECT timestamp > now() - interval '1 minute' FROM ir_cache "
        "WHERE name = 'ir.translation'") == [(True,)]
    # What the command line runs after its copy
    query = "SELECT timestamp FROM ir_cache WHERE name = 'ir.translation'"
    before, = pair.secondary.execute(query)
    with pair.secondary.connect() as conn, conn.cursor() as cursor:
        translation.plan_forget_cached(cursor).execute(cursor)
    after, = pair.secondary.execute(query)
    assert after > before


def test_view_exposes_only_shared_record_translations(pair):
    "The secondary reads through the view nothing but what it copies"
    rows = pair.secondary.execute(
        'SELECT DISTINCT type, split_part(name, \',\', 1), res_id > 0 '
        'FROM public.%s' % TRANSLATION_VIEW)
    models = {r[0] for r in pair.secondary.execute(
            'SELECT name FROM public.shared_schema_primary_model')}
    assert rows and {(r[0], r[2]) for r in rows} == {('model', True)}
    assert {r[1] for r in rows} <= models
    # The primary translates private records too (groups, languages...).
    assert pair.primary.execute(
        "SELECT count(*) FROM ir_translation WHERE type = 'model' "
        "AND res_id > 0 AND name LIKE 'res.group,%' AND lang = 'fr'"
        )[0][0] > 0


def test_view_missing_warns_and_grant_restores_it(pair):
    """A primary set up before the translation view existed: the copy
    warns and goes on, Grant Access creates the view"""
    pair.primary.execute('DROP VIEW public.%s' % TRANSLATION_VIEW)
    try:
        plan = plan_copy(pair.secondary)
        assert plan.ok and [w.code for w in plan.warnings] == [
            'translation_view_missing']
        assert drift(pair.secondary) is None
        report = pair.secondary.proteus(COPY)['report']
        assert 'Model data copied' in report
    finally:
        grant = pair.primary.proteus(
            "grant = Wizard('shared_schema.grant_access')\n"
            "sql = grant.form.sql\n"
            "grant.execute('run')\n"
            "result = sql\n")
    assert 'CREATE VIEW "public"."%s"' % TRANSLATION_VIEW in grant
    assert grant.count('CREATE VIEW') == 1
    assert drift(pair.secondary)['missing'] == 0
    assert pair.primary.proteus(
        "grant = Wizard('shared_schema.grant_access')\n"
        "result = grant.form.sql\n") == '-- Nothing to do.'
