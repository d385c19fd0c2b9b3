# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction

from . import sharing_map
from .shared_schema import check_postgresql

FORMATS = {'png', 'svg'}


class SharingMap(Report):
    "Sharing Map"
    __name__ = 'shared_schema.sharing_map'

    @classmethod
    def execute(cls, ids, data):
        "Draw the sharing map of the database as a PNG (or an SVG)"
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        Configuration = pool.get('shared_schema.configuration')

        action_id = data.get('action_id')
        if action_id is None:
            action_reports = ActionReport.search([
                    ('report_name', '=', cls.__name__),
                    ], limit=1)
            if not action_reports:
                # The action is hidden from users outside its groups.
                raise AccessError(gettext(
                        'ir.msg_access_report_error', report=cls.__name__))
            action_report, = action_reports
        else:
            action_report = ActionReport(action_id)
        cls.check_access(action_report, action_report.model, ids)
        check_postgresql()

        format_ = data.get('format', 'png')
        if format_ not in FORMATS:
            format_ = 'png'
        configuration = Configuration(1)
        cursor = Transaction().connection.cursor()
        graph = sharing_map.build(cursor, configuration.schema,
            configuration.shared_tables() or None)
        content = sharing_map.render(graph, format_)
        return (format_, fields.Binary.cast(content), False,
            action_report.name)
