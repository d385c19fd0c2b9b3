# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The country module's import scripts on shared tables, offline.

trytond 8 loads countries, subdivisions and postal codes with the
``trytond_import_countries`` and ``trytond_import_postal_codes`` scripts of
the country module, not with XML.  Run against the primary they fill the
shared tables; run against a secondary afterwards they must find the same
records (they match countries by code, subdivisions by country and code)
and create no duplicate.

The scripts run unmodified in a subprocess with their data source narrowed:
``import_countries`` reads a few countries of the installed pycountry (the
whole set takes minutes) and ``import_postal_codes`` gets a small archive
of ours instead of its download.
"""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from psycopg import sql

from . import harness

DATA = Path(__file__).parent / 'data'
COUNTRIES = ['BE', 'DE', 'ES', 'FR', 'LU', 'NL']
SUBDIVISIONS = ['BE', 'LU']
POSTAL_CODES = 'BE'

# The rows the shared tables hold; each is checked for duplicates.
KEYS = {
    'country_country': ['code'],
    'country_subdivision': ['country', 'code'],
    'country_postal_code': ['country', 'postal_code', 'city', 'subdivision'],
    'country_region': ['code_numeric'],
    'country_organization': ['code'],
    'country_organization_member': [
        'organization', 'country', 'from_date', 'to_date'],
    }

IMPORT_COUNTRIES = r'''
import sys
import types

import pycountry

from trytond.modules.country.scripts import import_countries as script

database, config_file, countries, subdivisions = sys.argv[1:5]
countries, subdivisions = countries.split(','), subdivisions.split(',')
# The script itself, reading only some countries of pycountry.
script.pycountry = types.SimpleNamespace(
    countries=[c for c in pycountry.countries if c.alpha_2 in countries],
    subdivisions=[s for s in pycountry.subdivisions
        if s.country_code in subdivisions],
    LOCALES_DIR=pycountry.LOCALES_DIR)
script.main(database, config_file)
'''

IMPORT_POSTAL_CODES = r'''
import sys

from trytond.modules.country.scripts import import_postal_codes as script

database, config_file, code, archive = sys.argv[1:5]


def urlopen(url):
    # The script itself, downloading our archive instead of geonames'.
    assert url.endswith('/%s.zip' % code), url
    return open(archive, 'rb')


script.urlopen = urlopen
script.main(database, [code], config_file)
'''


def run_script(instance, code, *args):
    "Run code in a subprocess as the instance; return the process"
    command = [sys.executable, '-c', code, instance.dbname,
        str(instance.config_file)] + [str(a) for a in args]
    process = subprocess.run(command, env=instance.env(),
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=600)
    assert process.returncode == 0, (
        'import failed on %s (exit %s)\n%s\n%s' % (instance,
            process.returncode, process.stdout[-3000:],
            process.stderr[-3000:]))
    return process


def import_countries(instance, countries=COUNTRIES,
        subdivisions=SUBDIVISIONS):
    return run_script(instance, IMPORT_COUNTRIES,
        ','.join(countries), ','.join(subdivisions))


def import_postal_codes(instance, workdir, code=POSTAL_CODES):
    archive = Path(workdir) / ('%s.zip' % code)
    with zipfile.ZipFile(archive, 'w') as zf:
        zf.write(DATA / ('postal_codes_%s.txt' % code), '%s.txt' % code)
    return run_script(instance, IMPORT_POSTAL_CODES, code, archive)


class Pair:
    """A primary and a secondary instance sharing parties and countries in
    schema public of one database"""

    def __init__(self, cluster, workdir, name='imports'):
        self.cluster = cluster
        self.workdir = Path(workdir)
        self.group = cluster.create_role(
            harness.unique_name(name + '_shared'), login=False)
        roles = []
        for which in ['primary', 'secondary']:
            roles.append(cluster.create_role(
                    harness.unique_name('%s_%s' % (name, which))))
        self.dbname = cluster.create_database(owner=roles[0])
        instances = []
        for which, role in zip(['primary', 'secondary'], roles):
            cluster.create_schema(self.dbname, role, owner=role)
            cluster.grant_role(self.group, role)
            instances.append(harness.Instance(
                    cluster, self.dbname, role, self.workdir, which))
        self.primary, self.secondary = instances

    def setup_primary(self, languages=()):
        self.primary.admin('--all', '-u', 'party', 'country',
            'shared_schema', '--activate-dependencies',
            *(['-l'] + list(languages) if languages else []))
        return self.primary.proteus(
            "configuration = Model.get('shared_schema.configuration')(1)\n"
            "configuration.owner_role = %r\n"
            "configuration.save()\n"
            "configuration.click('fill_preset')\n"
            "setup = Wizard('shared_schema.setup')\n"
            "setup.form.party_prefix = '1-'\n"
            "setup.execute('run')\n"
            "result = setup.form.report\n" % self.group)

    def setup_secondary(self, languages=()):
        "Set the secondary up, then activate party and country on it"
        language_args = ['-l'] + list(languages) if languages else []
        self.secondary.admin('--all', '-u', 'shared_schema', *language_args)
        report = self.secondary.proteus(
            "configuration = Model.get('shared_schema.configuration')(1)\n"
            "configuration.owner_role = %r\n"
            "configuration.role = 'secondary'\n"
            "configuration.primary_schema = %r\n"
            "configuration.save()\n"
            "setup = Wizard('shared_schema.setup')\n"
            "setup.execute('run')\n"
            "result = setup.form.report\n" % (
                self.group, self.primary.role))
        self.secondary.admin('-u', 'party', 'country',
            '--activate-dependencies', *language_args)
        return report

    def count(self, table, schema='public'):
        return self.cluster.count(self.dbname,
            sql.SQL('SELECT count(*) FROM {}').format(
                sql.Identifier(schema, table)))

    def counts(self):
        return {t: self.count(t) for t in KEYS}

    def duplicates(self, table):
        "The keys of table that more than one row has"
        columns = sql.SQL(', ').join(
            sql.Identifier(c) for c in KEYS[table])
        query = sql.SQL(
            'SELECT {columns}, count(*) FROM {table} GROUP BY {columns} '
            'HAVING count(*) > 1').format(columns=columns,
            table=sql.Identifier('public', table))
        return self.cluster.execute(self.dbname, query)

    def private_tables(self, role):
        "The country tables found in the schema of role"
        return [r[0] for r in self.cluster.execute(self.dbname,
                "SELECT tablename FROM pg_tables WHERE schemaname = %s "
                "AND tablename LIKE 'country%%'", (role,))]


@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    with harness.Cluster() as cluster:
        pair = Pair(cluster, tmp_path_factory.mktemp('imports'))
        pair.setup_primary()
        pair.empty_counts = pair.counts()
        import_countries(pair.primary)
        import_postal_codes(pair.primary, pair.workdir)
        pair.primary_counts = pair.counts()
        pair.setup_secondary()
        yield pair


def test_primary_import_fills_shared_tables(pair):
    "Run against the primary the scripts fill the shared tables"
    before, after = pair.empty_counts, pair.primary_counts
    assert before['country_country'] == before['country_subdivision'] == 0
    assert after['country_country'] == len(COUNTRIES)
    assert after['country_subdivision'] > len(SUBDIVISIONS)
    # 6 lines, 3 of them with 2 known subdivisions (region and province)
    assert after['country_postal_code'] == 9
    assert after['country_organization_member'] > 0
    assert pair.private_tables(pair.primary.role) == []
    assert pair.cluster.count(pair.dbname,
        "SELECT count(*) FROM public.country_country "
        "WHERE code = 'BE' AND region IS NOT NULL") == 1


def test_secondary_import_creates_no_duplicate(pair):
    "Run against the secondary afterwards the scripts duplicate nothing"
    assert pair.private_tables(pair.secondary.role) == []
    assert pair.counts() == pair.primary_counts
    postal_ids = pair.cluster.execute(pair.dbname,
        'SELECT id FROM public.country_postal_code ORDER BY id')

    import_countries(pair.secondary)
    assert pair.counts() == pair.primary_counts
    import_postal_codes(pair.secondary, pair.workdir)
    assert pair.counts() == pair.primary_counts
    for table in KEYS:
        assert pair.duplicates(table) == [], table
    # The postal code script deletes the country's codes, then creates
    # them again: same rows, new ids.
    assert pair.cluster.execute(pair.dbname,
        'SELECT id FROM public.country_postal_code ORDER BY id'
        ) != postal_ids

    # The primary sees the secondary's import and imports again cleanly.
    import_countries(pair.primary)
    assert pair.counts() == pair.primary_counts
    assert pair.private_tables(pair.secondary.role) == []
