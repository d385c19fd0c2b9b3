# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The documentation builds without warnings and its proteus lines work.

The proteus lines of doc/ are included from doc/snippets/*.py; the
walk-through below runs them, in the order of the set-up page, on two real
instances sharing one database.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from . import harness

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / 'doc'
SNIPPETS = DOC / 'snippets'


def test_sphinx_build(tmp_path):
    "sphinx-build -W: a warning is an error"
    process = subprocess.run([sys.executable, '-m', 'sphinx', '-W',
            '--keep-going', '-q', '-b', 'html', str(DOC), str(tmp_path)],
        capture_output=True, text=True, cwd=str(ROOT))
    assert process.returncode == 0, process.stderr
    assert 'WARNING' not in process.stderr, process.stderr
    assert (tmp_path / 'index.html').exists()
    assert (tmp_path / '_images' / 'sharing_map.png').exists()


def test_snippets_are_included():
    "Every snippet is shown by a page, so none is tested for nothing"
    pages = '\n'.join(p.read_text() for p in DOC.glob('*.rst'))
    included = set(re.findall(r'literalinclude:: snippets/(\S+)', pages))
    assert included == {p.name for p in SNIPPETS.glob('*.py')}


def snippet(name, **names):
    "The text of a snippet with the names of the doc replaced"
    text = (SNIPPETS / name).read_text()
    for old, new in names.items():
        text = text.replace("'%s'" % old, "'%s'" % new)
    return text


@pytest.mark.skipif(not shutil.which('dot'),
    reason="graphviz's dot program is not installed")
def test_setup_walkthrough(cluster, tmp_path):
    "The proteus lines of the set-up and usage pages, on two instances"
    primary = cluster.create_role()
    secondary = cluster.create_role()
    owner = cluster.create_role(login=False)
    dbname = cluster.create_database(owner=primary)
    cluster.create_schema(dbname, primary, owner=primary)
    cluster.create_schema(dbname, secondary, owner=secondary)
    cluster.grant_role(owner, primary)
    cluster.grant_role(owner, secondary)
    names = {'tryton_shared': owner, 'tryton1': primary}
    one = harness.Instance(cluster, dbname, primary, tmp_path, 'one')
    two = harness.Instance(cluster, dbname, secondary, tmp_path, 'two')

    one.admin('--all')
    one.admin('-u', 'party', 'country', 'shared_schema',
        '--activate-dependencies')
    report = one.proteus(snippet('primary_setup.py', **names)
        + '\nresult = setup.form.report')
    assert 'registered as primary' in report
    assert 'party_party' in one.last_process.stdout
    assert cluster.count(dbname, "SELECT count(*) FROM pg_tables "
        "WHERE schemaname = 'public' AND tablename = 'party_party' "
        "AND tableowner = %s", (owner,)) == 1

    # Run again, the wizards of the usage page change nothing.
    assert one.proteus(snippet('move_tables.py')
        + '\nresult = move.form.report').startswith('0 ')
    assert '-- Nothing to do.' in one.last_process.stdout
    assert one.proteus(snippet('grant_access.py')
        + '\nresult = grant.form.report').startswith('0 ')

    two.admin('--all')
    two.admin('-u', 'shared_schema')
    report = two.proteus(snippet('secondary_setup.py', **names)
        + '\nresult = setup.form.report')
    assert 'registered as secondary' in report
    regions = cluster.count(dbname, 'SELECT count(*) FROM country_region')
    two.admin('-u', 'party', 'country', '--activate-dependencies')
    assert cluster.count(
        dbname, 'SELECT count(*) FROM country_region') == regions
    two.proteus(snippet('secondary_prefix.py'))

    check = snippet('check_sharing.py') + (
        '\nresult = [party.code, len(Party.find([]))]')
    code, count = one.proteus(check)
    assert code.startswith('1-') and count == 1
    code, count = two.proteus(check)
    assert code.startswith('2-') and count == 2

    copied = two.proteus(snippet('copy_model_data.py')
        + '\nresult = [copy.form.report]')
    assert '0 rows copied' in copied[0]

    one.proteus('import os\nos.chdir(%r)\n' % str(tmp_path)
        + snippet('sharing_map_report.py') + '\nresult = extension')
    assert (tmp_path / 'sharing_map.png').read_bytes()[:4] == b'\x89PNG'
