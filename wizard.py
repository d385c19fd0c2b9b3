# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .shared_schema import check_postgresql, execute, in_pool, translate


class Preview(ModelView):
    "Shared Schema Preview"
    __name__ = 'shared_schema.preview'

    analysis = fields.Text("Analysis", readonly=True,
        help="What was found, what is refused and why.")
    sql = fields.Text("SQL", readonly=True,
        help="The statements that will run, in order, in one transaction.")
    party_prefix = fields.Char("Party Prefix",
        states={
            'invisible': ~Eval('party_activated', False),
            },
        help="The prefix of the party codes of this instance.")
    party_activated = fields.Boolean("Party Activated", readonly=True)


class Result(ModelView):
    "Shared Schema Result"
    __name__ = 'shared_schema.result'

    report = fields.Text("Report", readonly=True)


def get_configuration():
    check_postgresql()
    return Pool().get('shared_schema.configuration')(1)


def copied_report(counts):
    counts = counts or {'missing': 0, 'stale': 0, 'models': 0}
    report = gettext('shared_schema.msg_copied',
        missing=counts['missing'], stale=counts['stale'],
        models=counts['models'])
    translations = counts.get('translations')
    if translations:
        report += '\n' + gettext('shared_schema.msg_translations_copied',
            missing=translations['missing'], stale=translations['stale'],
            conflicts=translations['conflicts'])
    return report


class PlanWizard(Wizard):
    "Show a plan, then run that same plan"
    start = StateView('shared_schema.preview',
        'shared_schema.preview_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Run", 'run', 'tryton-launch', default=True),
            ])
    run = StateTransition()
    done = StateView('shared_schema.result',
        'shared_schema.result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def plan(self, configuration):
        raise NotImplementedError

    def default_start(self, fields):
        plan = self.plan(get_configuration())
        return {
            'analysis': plan.render_analysis(translate),
            'sql': plan.render_sql(),
            }

    def transition_run(self):
        count = execute(self.plan(get_configuration()), self.start.sql)
        self.report = gettext(
            'shared_schema.msg_statements_run', count=count)
        return 'done'

    def default_done(self, fields):
        return {'report': getattr(self, 'report', '')}


class MoveTables(PlanWizard):
    "Move Tables to the Shared Schema"
    __name__ = 'shared_schema.move_tables'

    def plan(self, configuration):
        return configuration.plan_move()


class GrantAccess(PlanWizard):
    "Grant Access to the Shared Schema"
    __name__ = 'shared_schema.grant_access'

    def plan(self, configuration):
        return configuration.plan_grant()


class CopyModelData(PlanWizard):
    "Copy Model Data from the Primary"
    __name__ = 'shared_schema.copy_model_data'

    def plan(self, configuration):
        return configuration.plan_copy()

    def transition_run(self):
        _, counts = get_configuration().copy_model_data(self.start.sql)
        self.report = copied_report(counts)
        return 'done'


class Setup(PlanWizard):
    "Set up Shared Schema"
    __name__ = 'shared_schema.setup'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # trytond keeps the state of the base class when a subclass defines
        # it again as a class attribute
        cls.start = StateView('shared_schema.preview',
            'shared_schema.setup_preview_view_form', [
                Button("Cancel", 'end', 'tryton-cancel'),
                Button("Set up", 'run', 'tryton-launch', default=True),
                ])

    def plan(self, configuration):
        if configuration.role == 'primary':
            plan = configuration.plan_move()
            plan.extend(configuration.plan_grant())
            return plan
        return configuration.plan_copy()

    def default_start(self, fields):
        values = super().default_start(fields)
        values['party_activated'] = party_activated()
        if values['party_activated']:
            values['party_prefix'] = current_party_prefix()
        return values

    def transition_run(self):
        configuration = get_configuration()
        lines = []
        if configuration.role == 'primary':
            count = execute(self.plan(configuration), self.start.sql)
        else:
            count, counts = configuration.copy_model_data(self.start.sql)
            lines.append(copied_report(counts))
        lines.insert(0, gettext(
                'shared_schema.msg_statements_run', count=count))
        instance = configuration.register()
        if party_activated() and self.start.party_prefix is not None:
            SetPartyPrefix = Pool().get(
                'shared_schema.set_party_prefix', type='wizard')
            SetPartyPrefix.apply(self.start.party_prefix)
        lines.append(gettext('shared_schema.msg_registered',
                name=instance.name, role=instance.role,
                schema=instance.schema_name))
        self.report = '\n'.join(lines)
        return 'done'


def party_activated():
    return in_pool('party.configuration')


def current_party_prefix():
    Configuration = Pool().get('party.configuration')
    sequence = Configuration(1).get_multivalue('party_sequence')
    return sequence.prefix if sequence else None
