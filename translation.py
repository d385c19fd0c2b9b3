# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Bring a secondary's translations of the shared records in line with its
primary's.

The translatable fields of the shared models (country, subdivision,
region and organization names, party category names, ...) keep their
value in the default language in the shared tables, but their other
languages in ``ir_translation`` (rows of type ``model`` whose ``res_id`` is
the record id and whose ``name`` is "model,field"), which is private to
each instance.  A secondary therefore shows the primary's shared records
in its default language only, unless their translations are copied.

The primary is the source of truth: the copy makes the secondary's
translations of the shared records exactly the primary's (missing rows
inserted, rows the primary does not have identically removed), so a
translation edited on a secondary is replaced by the primary's at its next
copy.  :func:`drift` and :func:`differences` show such edits beforehand.

Everything is set-based SQL read from the view the primary's Grant Access
created in the shared schema; nothing is read from the primary's private
schema directly.
"""
from sql import Conflict, Literal, Null, Table
from sql.aggregate import Count
from sql.functions import CurrentTimestamp
from sql.operators import Equal, Exists, IsDistinct, IsNotDistinct, Not

from . import catalog, model_data
from .plan import (
    MODEL_VIEW, TRANSLATION_VIEW, Plan, SplitPart, check_identifiers,
    missing_views)

KEY_COLUMNS = ['name', 'res_id', 'lang', 'type']
VALUE_COLUMNS = ['src', 'value', 'module', 'fuzzy', 'overriding_module']
COLUMNS = KEY_COLUMNS + VALUE_COLUMNS
# The name of trytond's cache of translations in ir_cache
CACHE = 'ir.translation'


class Sources:
    "The ir_translation of a secondary and the view of its primary's"

    def __init__(self, schema, shared_schema):
        self.translation = Table('ir_translation', schema=schema)
        self.ir_module = Table('ir_module', schema=schema)
        self.primary = Table(TRANSLATION_VIEW, schema=shared_schema)
        self.models = Table(MODEL_VIEW, schema=shared_schema)

    def other_translation(self):
        "another reference to the secondary's ir_translation"
        return Table(self.translation._name, schema=self.translation._schema)

    def shared_condition(self, translation):
        "the secondary's translations of records of the shared models"
        models = self.models
        return ((translation.type == 'model')
            & (translation.res_id > 0)
            & SplitPart(translation.name, ',', 1).in_(
                models.select(models.name)))

    @staticmethod
    def same_key(row, other):
        return (Equal(row.name, other.name)
            & Equal(row.res_id, other.res_id)
            & IsNotDistinct(row.lang, other.lang)
            & Equal(row.type, other.type))

    def same(self, row, other):
        condition = self.same_key(row, other)
        for column in VALUE_COLUMNS:
            condition &= IsNotDistinct(
                getattr(row, column), getattr(other, column))
        return condition

    def known_module(self, column):
        module = self.ir_module
        return (column == Null) | column.in_(module.select(module.name))

    def stale_condition(self, translation):
        "rows of the secondary with no identical row at the primary"
        primary = self.primary
        return (self.shared_condition(translation)
            & Not(Exists(primary.select(Literal(1),
                        where=self.same(translation, primary)))))

    def missing_condition(self, primary):
        "rows of the primary that the secondary can hold and lacks"
        translation = self.translation
        return (self.known_module(primary.module)
            & self.known_module(primary.overriding_module)
            & Not(Exists(translation.select(Literal(1),
                        where=self.same(translation, primary)))))

    def conflict_condition(self, translation):
        """rows of the secondary whose record, field and language the
        primary translates differently: two truths"""
        primary = self.primary
        return (self.shared_condition(translation)
            & Exists(primary.select(Literal(1),
                    where=self.same_key(translation, primary)
                    & IsDistinct(translation.value, primary.value))))

    def local_condition(self, translation):
        """rows of the secondary whose record, field and language the
        primary does not translate at all"""
        primary = self.primary
        return (self.shared_condition(translation)
            & Not(Exists(primary.select(Literal(1),
                        where=self.same_key(translation, primary)))))

    def unknown_modules(self):
        "rows of the primary whose module the secondary does not know"
        primary = self.primary
        return primary.select(primary.module, Count(Literal(1)),
            where=~self.known_module(primary.module)
            | ~self.known_module(primary.overriding_module),
            group_by=[primary.module], order_by=[primary.module])


def missing_view(cursor, shared_schema):
    "The name of the primary's translation view when it does not exist"
    if missing_views(cursor, shared_schema, [TRANSLATION_VIEW]):
        return '%s.%s' % (shared_schema, TRANSLATION_VIEW)
    return None


def drift(cursor, shared_schema):
    """Count how the translations of the shared records differ between the
    secondary (the cursor's instance) and its primary:

    - missing: rows of the primary the secondary lacks,
    - stale: rows of the secondary the primary does not have identically
      (the copy removes them),
    - conflicts: among stale, rows whose value differs from the primary's
      for the same record, field and language (edited on one side),
    - local: among stale, rows for a record, field and language the
      primary does not translate,
    - unknown_modules: {module: rows} of the primary that cannot be copied
      because the secondary does not have their module.

    Returns None when the primary has not published its translations."""
    if missing_view(cursor, shared_schema):
        return None
    schema = catalog.current_schema(cursor)
    sources = Sources(schema, shared_schema)
    translation, primary = sources.translation, sources.primary

    def count(table, condition):
        cursor.execute(*table.select(Count(Literal(1)), where=condition))
        return cursor.fetchone()[0]

    result = {
        'missing': count(primary, sources.missing_condition(primary)),
        'stale': count(translation, sources.stale_condition(translation)),
        'conflicts': count(
            translation, sources.conflict_condition(translation)),
        'local': count(translation, sources.local_condition(translation)),
        }
    cursor.execute(*sources.unknown_modules())
    result['unknown_modules'] = {m or '': n for m, n in cursor}
    return result


def differences(cursor, shared_schema, limit=20):
    """The translations of shared records that the secondary (the cursor's
    instance) has with another value than the primary, or that the primary
    does not have: a list of dicts (name, res_id, lang, value,
    primary_value), at most limit, the first ones by name, record and
    language."""
    if missing_view(cursor, shared_schema):
        return []
    schema = catalog.current_schema(cursor)
    sources = Sources(schema, shared_schema)
    translation, primary = sources.translation, sources.primary
    query = translation.join(primary, type_='LEFT',
        condition=sources.same_key(translation, primary)).select(
        translation.name, translation.res_id, translation.lang,
        translation.value, primary.value,
        where=sources.shared_condition(translation)
        & IsDistinct(translation.value, primary.value),
        order_by=[translation.name, translation.res_id, translation.lang],
        limit=limit)
    cursor.execute(*query)
    return [{
            'name': name,
            'res_id': res_id,
            'lang': lang,
            'value': value,
            'primary_value': primary_value,
            } for name, res_id, lang, value, primary_value in cursor]


def plan_copy(cursor, shared_schema):
    """The plan that makes the ir_translation rows of the shared records of
    this (secondary) instance equal to its primary's"""
    plan = Plan('Copy the translations of the shared records from the '
        'primary')
    if not check_identifiers(plan, shared_schema):
        return plan
    schema = catalog.current_schema(cursor)
    if schema == shared_schema:
        plan.refuse('same_schema', schema=schema)
        return plan
    view = missing_view(cursor, shared_schema)
    if view:
        plan.warn('translation_view_missing', view=view)
        return plan
    counts = drift(cursor, shared_schema)
    sources = Sources(schema, shared_schema)
    translation, primary = sources.translation, sources.primary

    if counts['stale']:
        reason = ('Remove the %s translations of shared records that the '
            'primary does not have (or has with other values): the '
            'primary is the source of truth of the shared records\' '
            'translations.' % counts['stale'])
        if counts['conflicts'] or counts['local']:
            reason += (' %s of them were edited on this instance with '
                'another value than the primary\'s and %s translate what '
                'the primary does not: they are replaced by the '
                'primary\'s translations.' % (
                    counts['conflicts'], counts['local']))
        # The stale rows are found through another instance of the table:
        # python-sql does not qualify the columns of the table a DELETE
        # removes from, and inside NOT EXISTS they would be the view's.
        stale = sources.other_translation()
        plan.add(translation.delete(where=translation.id.in_(
                    stale.select(stale.id,
                        where=sources.stale_condition(stale)))),
            reason)
    if counts['missing']:
        plan.add(translation.insert(
                [getattr(translation, c) for c in COLUMNS]
                + [translation.create_uid, translation.create_date],
                primary.select(
                    *([getattr(primary, c) for c in COLUMNS]
                        + [Literal(0), CurrentTimestamp()]),
                    where=sources.missing_condition(primary))),
            'Copy the %s translations of shared records from the primary '
            'so that users of this instance read them in their language.'
            % counts['missing'])
    for name, rows in sorted(counts['unknown_modules'].items()):
        plan.note('Skipped %s translations of module "%s", which this '
            'instance does not have: install it here too.' % (rows, name))
    if not plan.statements:
        plan.note('The translations of the shared records are already the '
            'primary\'s.')
    plan.counts = counts
    return plan


def plan_forget_cached(cursor):
    """The plan that makes the running servers of the cursor's instance
    forget the translations they cached, as trytond does when its cache
    cleaning goes through the database (the default, clean_timeout > 0):
    for a copy run outside trytond (the command line), in the same
    transaction.  Within trytond, clear the cache of ir.translation instead:
    its commit does the same through another connection and would wait for
    this row lock."""
    plan = Plan('Forget the cached translations')
    cache = Table('ir_cache', schema=catalog.current_schema(cursor))
    plan.add(cache.insert([cache.name, cache.timestamp],
            [[CACHE, CurrentTimestamp()]],
            on_conflict=Conflict(cache, indexed_columns=[cache.name],
                columns=[cache.timestamp], values=[CurrentTimestamp()])),
        'Tell the running servers of this instance to forget the '
        'translations they cached: the copy did not go through '
        'ir.translation.')
    return plan


def plan_copy_all(cursor, shared_schema):
    """The whole copy from the primary that a secondary runs before its
    module updates: its model data, then the translations of the shared
    records"""
    plan = model_data.plan_copy(cursor, shared_schema)
    if plan.ok:
        counts = plan.counts
        translations = plan_copy(cursor, shared_schema)
        plan.extend(translations)
        plan.counts = dict(counts or {}, translations=translations.counts)
    return plan
