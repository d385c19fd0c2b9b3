# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The sharing map of a small hand-made database on the real server."""
import shutil

import pytest

from trytond.modules.shared_schema import sharing_map

from . import harness

pytest.importorskip('pydot')

needs_dot = pytest.mark.skipif(
    not shutil.which('dot'), reason="graphviz's dot program is not installed")

SCHEMA = '''
CREATE SCHEMA common;
CREATE SCHEMA s1;
CREATE SCHEMA s2;
CREATE SCHEMA outsider;
CREATE TABLE s1.region (id integer PRIMARY KEY);
CREATE TABLE common.party (
    id integer PRIMARY KEY,
    region integer REFERENCES s1.region(id));
CREATE TABLE common.address (
    id integer PRIMARY KEY,
    party integer REFERENCES common.party(id) ON DELETE CASCADE);
CREATE TABLE common.unrelated (id integer PRIMARY KEY);
CREATE TABLE s1.party_lang (
    id integer PRIMARY KEY,
    party integer REFERENCES common.party(id) ON DELETE CASCADE);
CREATE TABLE s1.lang (id integer PRIMARY KEY);
CREATE TABLE s1.other (
    id integer PRIMARY KEY,
    lang integer REFERENCES s1.lang(id));
CREATE TABLE s1.contact (id integer PRIMARY KEY);
CREATE TABLE s2.identifier (
    id integer PRIMARY KEY,
    party integer REFERENCES common.party(id) ON DELETE RESTRICT);
CREATE TABLE s2.party (id integer PRIMARY KEY);
CREATE TABLE outsider.note (
    id integer PRIMARY KEY,
    party integer REFERENCES common.party(id));
CREATE TABLE common.shared_schema_instance (
    id integer PRIMARY KEY, name varchar, schema_name varchar,
    role varchar, tables text);
INSERT INTO common.shared_schema_instance VALUES
    (1, 'One', 's1', 'primary', E'address party.address\\nparty party.party'),
    (2, 'Two', 's2', 'secondary', NULL);
'''
TABLES = {
    'party': 'party.party',
    'address': 'party.address',
    'contact': 'party.contact_mechanism',
    'shared_schema_instance': 'shared_schema.instance',
    }


@pytest.fixture
def cursor(cluster):
    dbname = cluster.create_database()
    for statement in SCHEMA.split(';'):
        if statement.strip():
            cluster.execute(dbname, statement)
    connection = cluster.connect(cluster.params['user'], dbname)
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def edges(graph):
    return {(e.get_source(), e.get_destination()): e
        for e in graph.get_edges()}


def attribute(item, name):
    return item.get(name)


def test_nodes_and_clusters(cursor):
    graph = sharing_map.build(cursor, 'common', TABLES)
    nodes = sharing_map.nodes(graph)
    assert set(nodes) == {
        'common.party', 'common.address', 'common.shared_schema_instance',
        's1.region', 's1.party_lang', 's1.contact',
        's2.identifier', 's2.party',
        }
    kinds = {n: attribute(node, 'kind') for n, node in nodes.items()}
    assert kinds['common.party'] == 'shared'
    assert kinds['s1.contact'] == 'to share'
    assert kinds['s2.party'] == 'shadow'
    assert kinds['s1.region'] == 'private'
    assert attribute(nodes['common.party'], 'fillcolor') == (
        sharing_map.SHARED_COLOR)
    assert attribute(nodes['s2.party'], 'fillcolor') == (
        sharing_map.SHADOW_COLOR)

    clusters = {attribute(c, 'label'): {
            n.get_name().strip('"') for n in c.get_nodes()}
        for c in graph.get_subgraphs()}
    assert clusters == {
        'Shared schema "common"': {
            'common.party', 'common.address',
            'common.shared_schema_instance'},
        'Instance "One" (primary), schema "s1"': {
            's1.region', 's1.party_lang', 's1.contact'},
        'Instance "Two" (secondary), schema "s2"': {
            's2.identifier', 's2.party'},
        }


def test_edges_and_colours(cursor):
    graph = sharing_map.build(cursor, 'common', TABLES)
    found = edges(graph)
    assert set(found) == {
        ('common.party', 's1.region'),
        ('common.address', 'common.party'),
        ('s1.party_lang', 'common.party'),
        ('s2.identifier', 'common.party'),
        }
    outside = found['common.party', 's1.region']
    assert attribute(outside, 'color') == 'red'
    assert attribute(outside, 'kind') == 'outside'
    cascade = found['s1.party_lang', 'common.party']
    assert attribute(cascade, 'color') == sharing_map.CASCADE_COLOR
    assert attribute(cascade, 'style') == 'dashed'
    assert 'ON DELETE CASCADE' in attribute(cascade, 'label')
    restrict = found['s2.identifier', 'common.party']
    assert attribute(restrict, 'color') is None
    assert attribute(restrict, 'on_delete') == 'RESTRICT'
    inside = found['common.address', 'common.party']
    assert attribute(inside, 'kind') == 'shared'
    # shared to shared, even with CASCADE, is not a cross-instance delete
    assert attribute(inside, 'color') is None


def test_instance_schemas_restrict(cursor):
    graph = sharing_map.build(cursor, 'common', TABLES, ['s1'])
    nodes = sharing_map.nodes(graph)
    assert not any(n.startswith('s2.') for n in nodes)
    assert ('s2.identifier', 'common.party') not in edges(graph)
    assert len(graph.get_subgraphs()) == 2


def test_without_registry(cursor):
    cursor.execute('DROP TABLE common.shared_schema_instance')
    graph = sharing_map.build(cursor, 'common', ['party', 'address'])
    nodes = sharing_map.nodes(graph)
    # without a registry every schema linked to the shared set is drawn
    assert {'s1.party_lang', 's2.identifier', 'outsider.note'} <= set(nodes)
    labels = {attribute(c, 'label') for c in graph.get_subgraphs()}
    assert 'Schema "outsider"' in labels


def test_shared_set_from_registry(cursor):
    graph = sharing_map.build(cursor, 'common')
    nodes = sharing_map.nodes(graph)
    assert attribute(nodes['common.party'], 'kind') == 'shared'
    assert 'common.unrelated' not in nodes
    assert 'party.address' in attribute(nodes['common.address'], 'tooltip')


def test_all_tables_of_shared_schema(cursor):
    cursor.execute('DROP TABLE common.shared_schema_instance')
    graph = sharing_map.build(cursor, 'common')
    nodes = sharing_map.nodes(graph)
    assert attribute(nodes['common.unrelated'], 'kind') == 'shared'


@needs_dot
def test_write(cursor, tmp_path):
    graph = sharing_map.build(cursor, 'common', TABLES)
    svg = sharing_map.write(graph, tmp_path / 'map.svg')
    png = sharing_map.write(graph, tmp_path / 'map.PNG')
    text = svg.read_text()
    assert text.lstrip().startswith('<?xml') and '<svg' in text
    assert 'party_lang' in text and 'ON DELETE CASCADE' in text
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    dot = sharing_map.write(graph, tmp_path / 'map.dot')
    assert 'digraph' in dot.read_text()
    assert sharing_map.render(graph, 'png')[:4] == b'\x89PNG'
    with pytest.raises(ValueError, match='.txt'):
        sharing_map.write(graph, tmp_path / 'map.txt')


@needs_dot
def test_report(cluster, tmp_path):
    "The map is printed from the configuration, by administrators only"
    role = cluster.create_role()
    dbname = cluster.create_database(owner=role)
    cluster.create_schema(dbname, role, owner=role)
    instance = harness.Instance(cluster, dbname, role, tmp_path)
    instance.init(['shared_schema'])
    result = instance.proteus('''
import sys

from proteus import Report
from trytond.model.exceptions import AccessError

Keyword = Model.get('ir.action.keyword')
keyword, = Keyword.find([
        ('model', '=', 'shared_schema.configuration,-1'),
        ('keyword', '=', 'form_print'),
        ])
Configuration = Model.get('shared_schema.configuration')
configuration = Configuration(1)
ext, content, direct_print, name = Report(
    'shared_schema.sharing_map').execute([configuration])
result = {
    'keyword': keyword.action.name,
    'ext': ext,
    'magic': bytes(content)[:8].hex(),
    'name': name,
    }
ext, content, _, _ = Report('shared_schema.sharing_map').execute(
    [configuration], {'format': 'svg', 'ids': [configuration.id]})
result['svg'] = ext == 'svg' and b'<svg' in bytes(content)

User = Model.get('res.user')
User(name="Clerk", login='clerk').save()
config.set_trytond(sys.argv[2], user='clerk', config_file=sys.argv[3])
try:
    Report('shared_schema.sharing_map').execute([configuration])
except AccessError:
    result['clerk'] = 'refused'
''')
    assert result == {
        'keyword': 'Sharing Map',
        'ext': 'png',
        'magic': b'\x89PNG\r\n\x1a\n'.hex(),
        'name': 'Sharing Map',
        'svg': True,
        'clerk': 'refused',
        }
