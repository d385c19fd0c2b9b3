# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Bring a secondary's model data in line with its primary's.

The XML loader of trytond finds the records it created through
``ir_model_data`` (module, fs_id -> db_id).  The records of the shared models
live in the shared tables, created once by the primary; a secondary that
does not know them would create them again.  So before a secondary activates
or upgrades a module, its ``ir_model_data`` rows of the shared models must be
exactly the primary's: missing rows inserted, stale ones (gone from the
primary, or pointing at another record) removed.  ``ir_model_data.model``
references ``ir_model(name)``, so the ``ir_model`` rows of the shared models
are created first.

Everything is set-based SQL read from the views the primary's Grant Access
created in the shared schema; nothing is read from the primary's private
schema directly.
"""
from sql import Literal, Table
from sql.aggregate import Count
from sql.functions import CurrentTimestamp
from sql.operators import Equal, Exists, IsNotDistinct, Not

from . import catalog
from .plan import (
    MODEL_DATA_VIEW, MODEL_VIEW, Plan, check_identifiers, missing_views)

DATA_COLUMNS = ['fs_id', 'model', 'module', 'db_id', 'noupdate',
    'field_names']


class Sources:
    "The tables of a secondary and the views of its primary"

    def __init__(self, schema, shared_schema):
        self.ir_model = Table('ir_model', schema=schema)
        self.ir_module = Table('ir_module', schema=schema)
        self.ir_model_data = Table('ir_model_data', schema=schema)
        self.models = Table(MODEL_VIEW, schema=shared_schema)
        self.model_data = Table(MODEL_DATA_VIEW, schema=shared_schema)

    def missing_models(self):
        model, primary = self.ir_model, self.models
        return primary.select(primary.name,
            where=Not(Exists(model.select(Literal(1),
                        where=model.name == primary.name))))

    def _same(self, data, primary):
        return (Equal(data.module, primary.module)
            & Equal(data.fs_id, primary.fs_id)
            & Equal(data.model, primary.model)
            & IsNotDistinct(data.db_id, primary.db_id)
            & IsNotDistinct(data.noupdate, primary.noupdate)
            & IsNotDistinct(data.field_names, primary.field_names))

    def stale_condition(self, data):
        "rows of shared models with no identical row at the primary"
        primary = self.model_data
        models = self.models
        return (data.model.in_(models.select(models.name))
            & Not(Exists(primary.select(Literal(1),
                        where=self._same(data, primary)))))

    def missing_condition(self, primary):
        "rows of the primary that the secondary can hold and lacks"
        data, module = self.ir_model_data, self.ir_module
        return (primary.module.in_(module.select(module.name))
            & Not(Exists(data.select(Literal(1),
                        where=self._same(data, primary)))))

    def unknown_modules(self):
        "rows of the primary whose module the secondary does not know"
        primary, module = self.model_data, self.ir_module
        return primary.select(primary.module, Count(Literal(1)),
            where=~primary.module.in_(module.select(module.name)),
            group_by=[primary.module], order_by=[primary.module])


def drift(cursor, shared_schema):
    """Count what differs between the secondary (the cursor's instance) and
    its primary: {'models': n, 'missing': n, 'stale': n,
    'unknown_modules': {module: n}}"""
    schema = catalog.current_schema(cursor)
    sources = Sources(schema, shared_schema)

    def count(query):
        cursor.execute(*query)
        return cursor.fetchone()[0]

    missing_models = sources.missing_models()
    result = {
        'models': count(missing_models.select(Count(Literal(1)))),
        }
    data, primary = sources.ir_model_data, sources.model_data
    result['stale'] = count(data.select(Count(Literal(1)),
            where=sources.stale_condition(data)))
    result['missing'] = count(primary.select(Count(Literal(1)),
            where=sources.missing_condition(primary)))
    cursor.execute(*sources.unknown_modules())
    result['unknown_modules'] = dict(cursor)
    return result


def plan_copy(cursor, shared_schema):
    """The plan that makes the ir_model / ir_model_data rows of the shared
    models of this (secondary) instance equal to its primary's"""
    plan = Plan('Copy the model data of the shared models from the primary')
    if not check_identifiers(plan, shared_schema):
        return plan
    missing = missing_views(cursor, shared_schema)
    if missing:
        plan.refuse('model_data_missing', view='%s.%s' % (
                shared_schema, sorted(missing)[0]))
        return plan
    schema = catalog.current_schema(cursor)
    if schema == shared_schema:
        plan.refuse('same_schema', schema=schema)
        return plan
    counts = drift(cursor, shared_schema)
    sources = Sources(schema, shared_schema)
    model, module = sources.ir_model, sources.ir_module
    data, primary = sources.ir_model_data, sources.model_data

    if counts['models']:
        views = sources.models
        plan.add(model.insert(
                [model.name, model.string, model.info, model.module,
                    model.create_uid, model.create_date],
                views.select(
                    views.name, views.string, views.info,
                    module.select(module.name,
                        where=module.name == views.module),
                    Literal(0), CurrentTimestamp(),
                    where=Not(Exists(model.select(Literal(1),
                                where=model.name == views.name))))),
            'Create the %s ir_model rows of shared models this instance '
            'does not know yet: its ir_model_data rows reference them.'
            % counts['models'])
    if counts['stale']:
        # Found through another reference to the table: python-sql does
        # not qualify the columns of the table a DELETE removes from, and
        # inside NOT EXISTS they would resolve to the view's.
        stale = Table(data._name, schema=data._schema)
        plan.add(data.delete(where=data.id.in_(stale.select(stale.id,
                        where=sources.stale_condition(stale)))),
            'Remove the %s ir_model_data rows of shared models that the '
            'primary does not have (or has with other values): the XML '
            'loader would otherwise update or delete shared records from '
            'stale information.' % counts['stale'])
    if counts['missing']:
        plan.add(data.insert(
                [getattr(data, c) for c in DATA_COLUMNS]
                + [data.create_uid, data.create_date],
                primary.select(
                    *([getattr(primary, c) for c in DATA_COLUMNS]
                        + [Literal(0), CurrentTimestamp()]),
                    where=sources.missing_condition(primary))),
            'Copy the %s ir_model_data rows of the primary so that '
            'activating or upgrading a module does not create its shared '
            'records again.' % counts['missing'])
    for name, rows in sorted(counts['unknown_modules'].items()):
        plan.note('Skipped %s rows of module "%s", which this instance '
            'does not have: install it here too.' % (rows, name))
    if not plan.statements:
        plan.note('The model data of the shared models is already the '
            'primary\'s.')
    plan.counts = counts
    return plan
