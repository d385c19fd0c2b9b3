# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""PostgreSQL clusters and trytond instances for end-to-end tests.

The harness acts as the database administrator: it connects as the
superuser given by the libpq variables PGHOST, PGPORT, PGUSER and
PGPASSWORD, creates roles and databases with unique names and drops them
again. Each trytond instance is driven in a subprocess because trytond's
pool and configuration are global to a process.
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

ADMIN_EMAIL = 'admin@example.com'
ADMIN_PASSWORD = 'admin'
_TAIL = 60
_CHILD_ENV_DROP = (
    'TRYTOND_CONFIG', 'TRYTOND_DATABASE_URI', 'TRYTOND_DATABASE__URI')


def admin_params():
    "Return the superuser connection parameters from the libpq variables."
    return {
        'host': os.environ.get('PGHOST') or '127.0.0.1',
        'port': int(os.environ.get('PGPORT') or 5432),
        'user': os.environ.get('PGUSER') or 'postgres',
        'password': os.environ.get('PGPASSWORD') or None,
        }


def admin_connect(dbname='postgres'):
    "Return an autocommit connection as the superuser."
    return psycopg.connect(dbname=dbname, autocommit=True, **admin_params())


def unique_name(prefix='t'):
    "Return a lowercase identifier unique across processes and runs."
    prefix = ''.join(
        c if c.isascii() and (c.isalnum() or c == '_') else '_'
        for c in prefix.lower()) or 't'
    if not (prefix[0].isalpha() or prefix[0] == '_'):
        prefix = 't' + prefix
    suffix = '_%d_%s' % (os.getpid(), secrets.token_hex(4))
    return prefix[:63 - len(suffix)] + suffix


def make_uri(user, password=None, params=None, dbname=''):
    "Return a database URI for user on the server of params."
    params = params or admin_params()
    path = '/' + quote(dbname, safe='')
    userinfo = quote(user, safe='')
    if password:
        userinfo += ':' + quote(password, safe='')
    host, port = params['host'], params['port']
    if host.startswith('/'):
        return 'postgresql://%s@%s?host=%s&port=%s' % (
            userinfo, path, quote(host, safe='/'), port)
    if ':' in host:
        host = '[%s]' % host
    return 'postgresql://%s@%s:%s%s' % (userinfo, host, port, path)


def superuser_uri():
    "Return the trytond database URI of the superuser."
    params = admin_params()
    return make_uri(params['user'], params['password'], params)


def drop_database(name):
    "Terminate the backends of database name and drop it if it exists."
    with admin_connect() as conn:
        conn.execute(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
            'WHERE datname = %s AND pid <> pg_backend_pid()', (name,))
        conn.execute(sql.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)')
            .format(sql.Identifier(name)))


def free_port(host='127.0.0.1'):
    "Return a TCP port that is free now on host."
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _tail(text, lines=_TAIL):
    return '\n'.join((text or '').splitlines()[-lines:])


def _child_env(extra=None):
    env = os.environ.copy()
    for key in _CHILD_ENV_DROP:
        env.pop(key, None)
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


def trytond_admin_command():
    "Return the command line that runs trytond-admin with this python."
    for path in [
            os.path.join(os.path.dirname(sys.executable), 'trytond-admin'),
            shutil.which('trytond-admin')]:
        if path and os.path.isfile(path):
            return [sys.executable, path]
    return [sys.executable, '-m', 'trytond.cli.admin']


class Cluster:
    "The PostgreSQL server as seen by the DBA; drops what it created."

    def __init__(self):
        self.params = admin_params()
        self.roles = []
        self.databases = []
        self._passwords = {}
        self._connections = {}

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        errors = self.cleanup()
        if errors:
            message = 'Cluster cleanup failed:\n' + '\n'.join(errors)
            if exc_type is None:
                raise AssertionError(message)
            warnings.warn(message)

    def _connection(self, dbname):
        conn = self._connections.get(dbname)
        if conn is None or conn.closed:
            conn = self._connections[dbname] = admin_connect(dbname)
        return conn

    def _close(self, dbname=None):
        for name in [dbname] if dbname else list(self._connections):
            conn = self._connections.pop(name, None)
            if conn is not None:
                conn.close()

    def execute(self, dbname, query, params=()):
        "Run query as the superuser in dbname and return its rows."
        with self._connection(dbname).cursor() as cursor:
            cursor.execute(query, params or None)
            return cursor.fetchall() if cursor.description else []

    def count(self, dbname, query, params=()):
        "Return the single value of a one-row, one-column query."
        rows = self.execute(dbname, query, params)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    def create_role(self, name=None, login=True, createdb=False,
            createrole=False, inherit=True):
        "Create a role and return its name."
        name = name or unique_name('role')
        options = [
            'LOGIN' if login else 'NOLOGIN',
            'CREATEDB' if createdb else 'NOCREATEDB',
            'CREATEROLE' if createrole else 'NOCREATEROLE',
            'INHERIT' if inherit else 'NOINHERIT',
            ]
        query = sql.SQL('CREATE ROLE {} ' + ' '.join(options)).format(
            sql.Identifier(name))
        password = None
        if login:
            password = secrets.token_hex(12)
            query += sql.SQL(' PASSWORD {}').format(sql.Literal(password))
        self.execute('postgres', query)
        self.roles.append(name)
        self._passwords[name] = password
        return name

    def create_database(self, name=None, owner=None):
        "Create a UTF-8 database and return its name."
        name = name or unique_name('db')
        query = sql.SQL('CREATE DATABASE {}').format(sql.Identifier(name))
        if owner:
            query += sql.SQL(' OWNER {}').format(sql.Identifier(owner))
        query += sql.SQL(" TEMPLATE template0 ENCODING 'UTF8'")
        self.execute('postgres', query)
        self.databases.append(name)
        return name

    def adopt_role(self, name):
        "Drop role name at exit although someone else created it."
        if name not in self.roles:
            self.roles.append(name)

    def adopt_database(self, name):
        "Drop database name at exit although someone else created it."
        if name not in self.databases:
            self.databases.append(name)

    def create_schema(self, dbname, schema, owner=None):
        "Create schema in dbname, owned by owner."
        query = sql.SQL('CREATE SCHEMA {}').format(sql.Identifier(schema))
        if owner:
            query += sql.SQL(' AUTHORIZATION {}').format(
                sql.Identifier(owner))
        self.execute(dbname, query)
        return schema

    def grant_role(self, group, member):
        "Make member a member of group."
        self.execute('postgres', sql.SQL('GRANT {} TO {}').format(
                sql.Identifier(group), sql.Identifier(member)))

    def drop_database(self, name):
        "Drop database name now."
        self._close(name)
        drop_database(name)
        if name in self.databases:
            self.databases.remove(name)

    def password_for(self, role):
        "Return the password of role, if the harness knows it."
        if role in self._passwords:
            return self._passwords[role]
        if role == self.params['user']:
            return self.params['password']
        return None

    def uri_for(self, role):
        "Return a trytond database URI connecting as role."
        return make_uri(role, self.password_for(role), self.params)

    def conninfo(self, role, dbname):
        "Return libpq keyword parameters connecting as role to dbname."
        return {
            'host': self.params['host'],
            'port': self.params['port'],
            'user': role,
            'password': self.password_for(role),
            'dbname': dbname,
            }

    def connect(self, role, dbname, autocommit=True):
        "Return a psycopg connection as role to dbname."
        return psycopg.connect(
            autocommit=autocommit, **self.conninfo(role, dbname))

    def cleanup(self):
        "Drop the databases then the roles created; return the errors."
        errors = []
        self._close()
        while self.databases:
            name = self.databases.pop()
            try:
                drop_database(name)
            except psycopg.Error as exception:
                errors.append('database %s: %s' % (name, exception))
        while self.roles:
            name = self.roles.pop()
            try:
                self.execute('postgres', sql.SQL('DROP ROLE IF EXISTS {}')
                    .format(sql.Identifier(name)))
            except psycopg.Error as exception:
                errors.append('role %s: %s' % (name, exception))
        self._close()
        return errors


class ChildError(AssertionError):
    "An exception raised by code run in a proteus subprocess."

    def __init__(self, text, error):
        super().__init__(text)
        self.child_type = error.get('type')
        self.child_error = error.get('message')
        self.child_description = error.get('description')
        self.child_traceback = error.get('traceback')


_CHILD = r'''
import json
import linecache
import sys
import traceback


def main():
    marker, database, config_file = sys.argv[1:4]
    code = sys.stdin.read()
    filename = '<proteus code>'
    linecache.cache[filename] = (
        len(code), None, code.splitlines(True), filename)
    status = 0
    try:
        from proteus import Model, Wizard, config
        config.set_trytond(database, config_file=config_file)
        namespace = {
            '__name__': '__proteus__',
            'config': config,
            'Model': Model,
            'Wizard': Wizard,
            'result': None,
            }
        exec(compile(code, filename, 'exec'), namespace)
        line = json.dumps({'result': namespace['result']}, default=str)
    except BaseException as exception:
        status = 1
        message = getattr(exception, 'message', None)
        line = json.dumps({'error': {
                    'type': '%s.%s' % (type(exception).__module__,
                        type(exception).__qualname__),
                    'message': str(
                        message if message is not None else exception),
                    'description': str(
                        getattr(exception, 'description', '') or ''),
                    'traceback': traceback.format_exc(),
                    }})
    sys.stdout.flush()
    sys.stdout.write('\n' + marker + line + '\n')
    sys.stdout.flush()
    return status


sys.exit(main())
'''


class Instance:
    "A trytond instance: a database reached as one role through a config."

    def __init__(self, cluster, dbname, role, workdir, name=None,
            listen=None):
        self.cluster = cluster
        self.dbname = dbname
        self.role = role
        self.name = name or role
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.uri = cluster.uri_for(role)
        if isinstance(listen, int):
            listen = '127.0.0.1:%d' % listen
        self.listen = listen
        self.password = ADMIN_PASSWORD
        self.last_process = None
        self.config_file = self.workdir / ('%s.conf' % self.name)
        self.passfile = self.workdir / ('%s.pass' % self.name)
        self.passfile.write_text(self.password + '\n')
        self.config_file.write_text(self.config_text())

    def __repr__(self):
        return '<Instance %s: %s as %s>' % (self.name, self.dbname, self.role)

    def config_text(self):
        "Return the text of the trytond configuration file."
        lines = ['[database]', 'uri = %s' % self.uri, '']
        if self.listen:
            lines += ['[web]', 'listen = %s' % self.listen, '']
        return '\n'.join(lines)

    @property
    def url(self):
        "Return the base URL of the web server when listen is set."
        if self.listen:
            return 'http://%s/%s/' % (self.listen, self.dbname)

    @property
    def dsn(self):
        "Return a libpq connection string as the instance role."
        return psycopg.conninfo.make_conninfo(
            **self.cluster.conninfo(self.role, self.dbname))

    @property
    def psql_uri(self):
        "Return a libpq URI as the instance role to its database."
        return make_uri(self.role, self.cluster.password_for(self.role),
            self.cluster.params, self.dbname)

    def env(self, extra=None):
        "Return the environment of the instance subprocesses."
        env = {'TRYTONPASSFILE': str(self.passfile)}
        env.update(extra or {})
        return _child_env(env)

    def connect(self, autocommit=True):
        "Return a psycopg connection as the instance role."
        return self.cluster.connect(self.role, self.dbname, autocommit)

    def execute(self, query, params=()):
        "Run query as the instance role and return its rows."
        with self.connect() as conn, conn.cursor() as cursor:
            cursor.execute(query, params or None)
            return cursor.fetchall() if cursor.description else []

    def admin(self, *args, check=True, env=None, timeout=900):
        "Run trytond-admin on the instance database."
        args = [str(a) for a in args]
        if '--all' in args and not any(
                a == '--email' or a.startswith('--email=') for a in args):
            args += ['--email', ADMIN_EMAIL]
        command = trytond_admin_command() + [
            '-c', str(self.config_file), '-d', self.dbname] + args
        try:
            process = subprocess.run(
                command, env=self.env(env), stdin=subprocess.DEVNULL,
                capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exception:
            raise AssertionError('%s timed out after %ss:\n%s\n%s' % (
                    ' '.join(command), timeout,
                    _tail(_decode(exception.stdout)),
                    _tail(_decode(exception.stderr))))
        if check and process.returncode:
            raise AssertionError(
                'trytond-admin %s failed (exit %s) on %s\n'
                '--- stdout ---\n%s\n--- stderr ---\n%s' % (
                    ' '.join(args), process.returncode, self,
                    _tail(process.stdout), _tail(process.stderr)))
        return process

    def init(self, modules=()):
        "Initialise the database, then activate modules."
        self.admin('--all')
        if modules:
            self.admin('-u', *modules, '--activate-dependencies')

    def proteus(self, code, check=True, timeout=600, env=None):
        """Run code with proteus on the instance; return its result.

        code sees config, Model and Wizard and assigns result, a
        JSON-serialisable value. When code raises and check is true,
        ChildError (an AssertionError) is raised with the child's
        exception as child_type, child_error and child_traceback; when
        check is false, that ChildError is returned instead. The finished
        subprocess, with what the code printed, is kept as last_process.
        """
        marker = '@@harness-%s@@' % secrets.token_hex(8)
        command = [sys.executable, '-c', _CHILD, marker, self.dbname,
            str(self.config_file)]
        try:
            process = subprocess.run(
                command, input=code, env=self.env(env), capture_output=True,
                text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exception:
            raise AssertionError('proteus code timed out after %ss on %s:\n'
                '%s\n%s' % (timeout, self, _tail(_decode(exception.stdout)),
                    _tail(_decode(exception.stderr))))
        self.last_process = process
        payload = None
        for line in reversed(process.stdout.splitlines()):
            if line.startswith(marker):
                payload = json.loads(line[len(marker):])
                break
        if payload is None:
            raise AssertionError(
                'proteus child gave no result (exit %s) on %s\n'
                '--- stdout ---\n%s\n--- stderr ---\n%s' % (
                    process.returncode, self, _tail(process.stdout),
                    _tail(process.stderr)))
        if 'error' in payload:
            error = payload['error']
            exception = ChildError(
                'proteus code failed on %s: %s: %s\n%s\n--- stderr ---\n%s'
                % (self, error['type'], error['message'],
                    error['traceback'], _tail(process.stderr, 20)), error)
            if check:
                raise exception
            return exception
        return payload['result']


def _decode(data):
    if isinstance(data, bytes):
        return data.decode(errors='replace')
    return data or ''
