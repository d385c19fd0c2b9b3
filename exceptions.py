# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError


class SharedSchemaError(UserError):
    "A change to the shared schema is refused; nothing was changed"
