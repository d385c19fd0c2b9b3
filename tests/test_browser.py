# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The set-up in the web client: sao 8.0 in a real browser.

Two trytond servers (a primary and a secondary on one database, as in
test_two_instances.py) serve sao on loopback; tests/browser/setup_wizard.mjs
drives Debian's chromium through playwright-core, one phase at a time, and
the test checks the database between the phases. The browser rig comes from
tests/browser/setup.sh; when it cannot run, the test fails (it never skips).

Screenshots go to tests/browser/output/<database>/. With
SHARED_SCHEMA_DOC_IMAGES=1 the ones the documentation shows are copied to
doc/images/browser/.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .harness import Instance, free_port, unique_name

ROOT = Path(__file__).resolve().parent.parent
BROWSER = ROOT / 'tests' / 'browser'
SAO = BROWSER / 'sao'
SCRIPT = BROWSER / 'setup_wizard.mjs'
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
DOC_IMAGES = ROOT / 'doc' / 'images' / 'browser'
DOC_SHOTS = [
    'primary-03-preset-saved', 'primary-04-setup-preview',
    'primary-05-setup-done', 'secondary-01-configuration-saved',
    'secondary-03-setup-done', 'parties-01-secondary-prefix',
    'parties-02-secondary-party', 'parties-03-primary-list',
    ]
SHARED = [
    'party_party', 'party_address', 'party_contact_mechanism',
    'party_identifier', 'country_country', 'country_region',
    'country_subdivision', 'country_postal_code', 'shared_schema_instance',
    ]
# Generous but bounded: other tests share the machine.
SERVER_START = 120
PHASE_TIMEOUT = 300
SAO_TIMEOUT_MS = 60000


class WebInstance(Instance):
    "An instance whose configuration also serves sao from web_root"

    def __init__(self, *args, web_root, **kwargs):
        self.web_root = web_root
        super().__init__(*args, **kwargs)

    def config_text(self):
        return super().config_text().rstrip('\n') + (
            '\nroot = %s\n' % self.web_root)

    @property
    def sao_url(self):
        return 'http://%s/' % self.listen


# The server's log: requests, and why a request failed (trytond logs the
# exception behind an error status, e.g. a lock timeout behind a 503, and
# its retries at DEBUG).
LOGCONF = '''\
[formatters]
keys=simple

[handlers]
keys=console

[loggers]
keys=root,wsgi,dispatcher

[formatter_simple]
format=%(asctime)s %(process)d %(thread)d %(levelname)s %(name)s %(message)s

[handler_console]
class=StreamHandler
formatter=simple
args=(sys.stderr,)

[logger_root]
level=INFO
handlers=console

[logger_wsgi]
level=DEBUG
handlers=
qualname=trytond.wsgi

[logger_dispatcher]
level=DEBUG
handlers=
qualname=trytond.protocols.dispatcher
'''


class Server:
    "trytond -c CONF -d DB serving the instance, its output in a log file"

    def __init__(self, instance, log):
        self.instance = instance
        self.log = Path(log)
        self.process = None
        self.logconf = instance.workdir / ('%s-logging.conf' % instance.name)
        self.logconf.write_text(LOGCONF)

    def command(self):
        trytond = Path(sys.executable).parent / 'trytond'
        if trytond.is_file():
            command = [sys.executable, str(trytond)]
        else:
            command = [sys.executable, '-m', 'trytond.cli.server']
        return command + ['-c', str(self.instance.config_file),
            '-d', self.instance.dbname, '--logconf', str(self.logconf)]

    def start(self):
        with open(self.log, 'a') as log:
            self.process = subprocess.Popen(self.command(),
                env=self.instance.env(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + SERVER_START
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail('trytond exited (%s) on %s:\n%s' % (
                        self.process.returncode, self.instance,
                        self.tail()))
            try:
                with urllib.request.urlopen(
                        self.instance.sao_url, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        pytest.fail('trytond does not answer on %s after %ss:\n%s' % (
                self.instance.sao_url, SERVER_START, self.tail()))

    def stop(self):
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)

    def restart(self):
        self.stop()
        self.start()

    def tail(self, lines=40):
        try:
            text = self.log.read_text(errors='replace')
        except OSError:
            return ''
        # The access log says little; the errors are what helps.
        text = [line for line in text.splitlines()
            if ' INFO werkzeug ' not in line and ' 200 -' not in line]
        return '\n'.join(text[-lines:])


def node_major():
    node = shutil.which('node')
    if not node:
        return None
    version = subprocess.run([node, '--version'], capture_output=True,
        text=True).stdout.strip().lstrip('v')
    try:
        return int(version.split('.')[0])
    except ValueError:
        return 0


@pytest.fixture(scope='module')
def rig():
    "The browser rig, prepared by tests/browser/setup.sh; fails if it cannot"
    problems = []
    if not os.access(CHROMIUM, os.X_OK):
        problems.append('no browser at %s (apt-get install chromium)'
            % CHROMIUM)
    major = node_major()
    if major is None or not shutil.which('npm'):
        problems.append('node and npm are needed (apt-get install nodejs '
            'npm)')
    elif major < 20:
        problems.append('node >= 20 is needed, found %s' % major)
    if problems:
        pytest.fail('the browser test cannot run: ' + '; '.join(problems)
            + '; then run bash tests/browser/setup.sh')
    process = subprocess.run(['bash', str(BROWSER / 'setup.sh')],
        capture_output=True, text=True, timeout=600)
    if process.returncode:
        pytest.fail('tests/browser/setup.sh failed (exit %s):\n%s\n%s' % (
                process.returncode, process.stdout[-3000:],
                process.stderr[-3000:]))
    assert (SAO / 'index.html').is_file()
    return SAO


def shared_tables(cluster, dbname, schema):
    return {t: o for t, o in cluster.execute(dbname,
            'SELECT tablename, tableowner FROM pg_tables '
            'WHERE schemaname = %s', (schema,))}


def sessions(cluster, dbname):
    "The database's sessions and the locks they wait for, for a failure"
    rows = cluster.execute(dbname,
        'SELECT a.pid, a.usename, a.state, a.wait_event_type, '
        "a.wait_event, pg_blocking_pids(a.pid), "
        "date_trunc('second', now() - a.xact_start), left(a.query, 160) "
        'FROM pg_stat_activity a WHERE a.datname = %s '
        'AND a.pid <> pg_backend_pid() ORDER BY a.pid', (dbname,))
    return '\n'.join(' | '.join(str(v) for v in row) for row in rows)


def test_setup_in_the_web_client(rig, cluster, tmp_path):
    "Set up a primary and a secondary in sao; a party crosses over"
    started = time.monotonic()
    timings = {}
    primary_role = cluster.create_role(unique_name('ss_web_primary'))
    secondary_role = cluster.create_role(unique_name('ss_web_secondary'))
    owner = cluster.create_role(unique_name('ss_web_owner'), login=False)
    cluster.grant_role(owner, primary_role)
    cluster.grant_role(owner, secondary_role)
    dbname = cluster.create_database(
        unique_name('ss_web'), owner=primary_role)
    cluster.create_schema(dbname, primary_role, owner=primary_role)
    cluster.create_schema(dbname, secondary_role, owner=secondary_role)
    primary = WebInstance(cluster, dbname, primary_role, tmp_path,
        'primary', listen=free_port(), web_root=rig)
    secondary = WebInstance(cluster, dbname, secondary_role, tmp_path,
        'secondary', listen=free_port(), web_root=rig)
    shots = BROWSER / 'output' / dbname
    shots.mkdir(parents=True, exist_ok=True)
    servers = [Server(primary, shots / 'trytond-primary.log'),
        Server(secondary, shots / 'trytond-secondary.log')]

    def browser(phase, instance, **extra):
        env = dict(os.environ, SAO_URL=instance.sao_url,
            SAO_DATABASE=dbname, SAO_USER='admin',
            SAO_PASSWORD=instance.password, SAO_SCREENSHOTS=str(shots),
            SAO_TIMEOUT=str(SAO_TIMEOUT_MS), CHROMIUM=CHROMIUM,
            PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD='1')
        env.update(extra)
        begin = time.monotonic()
        try:
            process = subprocess.run(['node', str(SCRIPT), phase],
                cwd=str(BROWSER), env=env, capture_output=True, text=True,
                timeout=PHASE_TIMEOUT)
        except subprocess.TimeoutExpired as exception:
            pytest.fail('browser phase %s timed out after %ss:\n%s' % (
                    phase, PHASE_TIMEOUT, exception.stdout))
        timings[phase] = time.monotonic() - begin
        (shots / ('%s.log' % phase)).write_text(
            process.stdout + process.stderr)
        result = None
        for line in reversed(process.stdout.splitlines()):
            if line.startswith('RESULT '):
                result = json.loads(line[len('RESULT '):])
                break
        assert process.returncode == 0 and result, (
            'browser phase %s failed (exit %s); screenshots in %s\n'
            '--- output ---\n%s\n%s\n--- server ---\n%s\n'
            '--- sessions ---\n%s' % (
                phase, process.returncode, shots, process.stdout[-4000:],
                process.stderr[-4000:], servers[
                    0 if instance is primary else 1].tail(),
                sessions(cluster, dbname)))
        defects.extend(
            '%s: %s' % (phase, text) for text in result['defects'])
        return result

    defects = []
    try:
        begin = time.monotonic()
        primary.init(['party', 'country', 'shared_schema'])
        secondary.init(['shared_schema'])
        timings['init'] = time.monotonic() - begin
        for server in servers:
            server.start()

        # The primary: owner role, preset, save, set-up wizard
        result = browser('primary', primary, SAO_OWNER_ROLE=owner,
            SAO_PARTY_PREFIX='1-')
        assert 'Record saved.' in result['messages']
        assert result['models'] >= 6
        assert cluster.execute(dbname,
            'SELECT c.owner_role, count(m.id) '
            'FROM "%s".shared_schema_configuration c '
            'JOIN "%s".shared_schema_model m ON m.configuration = c.id '
            'GROUP BY c.owner_role' % (primary_role, primary_role)) == [
            (owner, result['models'])]
        assert result['sqlHasSetSchema'], result['sql']
        assert 'registered as primary' in result['report']
        public = shared_tables(cluster, dbname, 'public')
        for table in SHARED:
            assert public.get(table) == owner, (table, public)
        assert not set(SHARED) & set(
            shared_tables(cluster, dbname, primary_role))
        assert cluster.count(dbname,
            'SELECT party_prefix FROM public.shared_schema_instance '
            'WHERE db_role = %s', (primary_role,)) == '1-'

        # The secondary: role, primary schema, owner role, set-up wizard
        result = browser('secondary', secondary, SAO_OWNER_ROLE=owner,
            SAO_PRIMARY_SCHEMA=primary_role)
        assert 'rows copied' in result['report']
        assert 'registered as secondary' in result['report']
        assert cluster.count(dbname,
            'SELECT role FROM public.shared_schema_instance '
            'WHERE db_role = %s', (secondary_role,)) == 'secondary'

        # Party and country on the secondary; its server reloads the pool
        begin = time.monotonic()
        secondary.admin('-u', 'party', 'country', '--activate-dependencies')
        servers[1].restart()
        timings['activate'] = time.monotonic() - begin
        assert not set(SHARED) & set(
            shared_tables(cluster, dbname, secondary_role))

        # A party made in the secondary's client shows in the primary's
        name = 'Made in the browser on %s' % secondary_role
        result = browser('parties', secondary, SAO_PARTY_PREFIX='2-',
            SAO_PARTY_NAME=name, SAO_PRIMARY_URL=primary.sao_url)
        assert result['code'].startswith('2-'), result
        assert any(name in row for row in result['primaryList'])
        assert cluster.execute(dbname,
            'SELECT code FROM public.party_party WHERE name = %s',
            (name,)) == [(result['code'],)]

        if os.environ.get('SHARED_SCHEMA_DOC_IMAGES') == '1':
            DOC_IMAGES.mkdir(parents=True, exist_ok=True)
            for name in DOC_SHOTS:
                shutil.copyfile(shots / ('%s.png' % name),
                    DOC_IMAGES / ('%s.png' % name))

        # What the client showed wrong, although the flow could go on
        assert not defects, 'the web client shows:\n' + '\n'.join(defects)
    finally:
        for server in servers:
            server.stop()
        timings['total'] = time.monotonic() - started
        print('timings: ' + ', '.join(
                '%s %.0fs' % item for item in timings.items()))
        print('screenshots: %s' % shots)
