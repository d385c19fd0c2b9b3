# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import doctest
import glob
import os
import unittest

import pytest

from trytond.tests.test_tryton import (
    doctest_checker, doctest_setup, doctest_teardown, load_doc_tests)

SCENARIOS = sorted(glob.glob(
        os.path.join(os.path.dirname(__file__), 'scenario_*.rst')))


def load_tests(*args, **kwargs):
    return load_doc_tests(__name__, __file__, *args, **kwargs)


@pytest.mark.parametrize(
    'path', SCENARIOS, ids=[os.path.basename(p) for p in SCENARIOS])
def test_scenario(path):
    "Run a scenario as trytond's load_doc_tests does"
    suite = doctest.DocFileSuite(
        path, module_relative=False, setUp=doctest_setup,
        tearDown=doctest_teardown, encoding='utf-8', checker=doctest_checker,
        optionflags=doctest.REPORT_ONLY_FIRST_FAILURE | doctest.ELLIPSIS)
    result = unittest.TextTestRunner(verbosity=0).run(suite)
    assert result.wasSuccessful(), '\n'.join(
        text for _, text in result.failures + result.errors)
