# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import catalog
from .exceptions import SharedSchemaError
from .shared_schema import check_postgresql


class SetPartyPrefixStart(ModelView):
    "Set Party Code Prefix"
    __name__ = 'shared_schema.set_party_prefix.start'

    prefix = fields.Char("Prefix",
        help="Prepended to the party codes this instance generates. It must "
        "differ from every other instance's prefix, and neither may start "
        "with the other.")
    others = fields.Text("Other Instances", readonly=True)


class SetPartyPrefix(Wizard):
    "Set Party Code Prefix"
    __name__ = 'shared_schema.set_party_prefix'
    start = StateView('shared_schema.set_party_prefix.start',
        'shared_schema.set_party_prefix_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Set", 'set_', 'tryton-ok', default=True),
            ])
    set_ = StateTransition()

    def default_start(self, fields):
        pool = Pool()
        Configuration = pool.get('party.configuration')
        Instance = pool.get('shared_schema.instance')
        check_postgresql()
        sequence = Configuration(1).get_multivalue('party_sequence')
        schema = catalog.current_schema(Transaction().connection.cursor())
        others = Instance.search([('schema_name', '!=', schema)])
        return {
            'prefix': sequence.prefix if sequence else None,
            'others': '\n'.join('%s: %s' % (i.name, i.party_prefix or '')
                for i in others),
            }

    def transition_set_(self):
        self.apply(self.start.prefix)
        return 'end'

    @classmethod
    def apply(cls, prefix):
        """Set prefix on this instance's party code sequence once no other
        registered instance could generate the same code"""
        pool = Pool()
        Configuration = pool.get('party.configuration')
        Instance = pool.get('shared_schema.instance')
        check_postgresql()
        prefix = prefix or None
        schema = catalog.current_schema(Transaction().connection.cursor())
        Instance.lock()
        Instance.check_prefix(prefix, schema)
        sequence = Configuration(1).get_multivalue('party_sequence')
        if not sequence:
            raise SharedSchemaError(gettext(
                    'shared_schema.msg_no_party_sequence'))
        sequence.prefix = prefix
        sequence.save()
        instances = Instance.search([('schema_name', '=', schema)])
        Instance.write(instances, {'party_prefix': prefix})
