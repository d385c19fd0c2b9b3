# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Draw what one database shares: the sharing map.

:func:`build` reads the catalog through a DB-API cursor and returns a
``pydot.Dot`` graph: the shared schema and each instance's schema are
clusters, the tables related to the shared set are boxes and their foreign
keys are arrows.  An arrow from a shared table to a private one (which the
move refuses) is red; an arrow from a private table to a shared one that
cascades on delete (a deletion on one instance silently deletes rows of
another) is dashed orange.  :func:`write` renders the graph as SVG or PNG
with the ``dot`` program of graphviz.

Only the catalog and the registry of the instances are read; nothing is
changed.
"""
import os

from sql import Table

from . import catalog
from .plan import REGISTRY_TABLE

SHARED_COLOR = '#dbe9f6'
SHARED_SET_COLOR = '#fff3c4'
PRIVATE_COLOR = '#ffffff'
SHADOW_COLOR = '#f4cccc'
OUTSIDE_COLOR = 'red'
CASCADE_COLOR = 'darkorange'
EDGE_COLOR = '#555555'
FORMATS = {
    '.svg': 'svg',
    '.png': 'png',
    '.dot': 'raw',
    '.gv': 'raw',
    }
LEGEND = [
    'Blue: shared tables. Yellow: tables of the shared set not moved yet. '
    'Pink: private tables named like a shared table (shadows).',
    'Red arrow: a shared table points at a private one. '
    'Dashed orange arrow: deleting a shared row deletes private rows '
    '(ON DELETE CASCADE).',
    ]


def registered_instances(cursor, shared_schema):
    """The instances of the registry in the shared schema as a list of
    (schema, name, role, tables) where tables is {table: model} (only the
    primary's row has tables); empty when there is no registry to read"""
    if not any(r.schema == shared_schema
            for r in catalog.relations(cursor, [REGISTRY_TABLE])):
        return []
    cursor.execute(
        "SELECT has_table_privilege(format('%%I.%%I', %s::text, %s::text), "
        "'SELECT')", (shared_schema, REGISTRY_TABLE))
    if not cursor.fetchone()[0]:
        return []
    registry = Table(REGISTRY_TABLE, schema=shared_schema)
    cursor.execute(*registry.select(
            registry.schema_name, registry.name, registry.role,
            registry.tables,
            order_by=[registry.role, registry.schema_name]))
    result = []
    for schema, name, role, lines in cursor:
        tables = {}
        for line in (lines or '').splitlines():
            if line.strip():
                table, _, model = line.strip().partition(' ')
                tables[table] = model or None
        result.append((schema, name, role, tables))
    return result


def node_name(schema, table):
    "The name of the node of a table in the graph"
    return '%s.%s' % (schema, table)


def _label(*lines):
    return '\\n'.join(l.replace('\\', '\\\\') for l in lines if l)


def build(cursor, shared_schema, tables=None, instance_schemas=None,
        title=None):
    """The map of the database of cursor as a pydot.Dot

    tables is the shared set: table names, or a dict {table: model name};
    None takes the primary's set from the registry, or else every table of
    the shared schema.  instance_schemas are the
    schemas of the instances; None takes those of the registry, or else
    every schema with a foreign key to or from a shared table.
    """
    import pydot

    instances, registered = {}, {}
    for schema, name, role, set_ in registered_instances(
            cursor, shared_schema):
        instances[schema] = (name, role)
        registered.update(set_)
    if tables is None:
        tables = registered or catalog.tables_in(cursor, shared_schema)
    models = dict(tables) if isinstance(tables, dict) else {
        t: None for t in tables}
    names = set(models)

    located = catalog.relations(cursor, sorted(names))
    in_shared = {r.name for r in located if r.schema == shared_schema}

    def is_shared(schema, table):
        return schema == shared_schema and table in names

    def touches(fk):
        return (fk.table in names or fk.target_table in names)

    if instance_schemas is None:
        schemas = set(instances) | {r.schema for r in located}
        if not instances:
            schemas |= {s for fk in catalog.foreign_keys(
                        cursor, [shared_schema]) if touches(fk)
                for s in (fk.schema, fk.target_schema)}
        schemas.discard(shared_schema)
        schemas.discard('pg_catalog')
        schemas.discard('information_schema')
        instance_schemas = sorted(schemas)
    else:
        instance_schemas = [s for s in instance_schemas if s != shared_schema]
    shown_schemas = [shared_schema] + list(instance_schemas)

    fks = [fk for fk in catalog.foreign_keys(cursor, shown_schemas)
        if fk.schema in shown_schemas and fk.target_schema in shown_schemas
        and touches(fk)]

    # The boxes: the shared set wherever it is, shadows, and the ends of
    # the foreign keys that touch it.
    boxes = {}
    for relation in located:
        if relation.schema in shown_schemas:
            boxes[relation.schema, relation.name] = relation
    for fk in fks:
        boxes.setdefault((fk.schema, fk.table), None)
        boxes.setdefault((fk.target_schema, fk.target_table), None)

    graph = pydot.Dot('sharing_map', graph_type='digraph',
        rankdir='TB', compound='true', fontname='Helvetica',
        fontsize='11', labelloc='b', labeljust='l', nodesep='0.15',
        ranksep='0.9', newrank='true')
    graph.set_node_defaults(shape='box', style='filled', fontname='Helvetica',
        fontsize='10', height='0.3')
    graph.set_edge_defaults(fontname='Helvetica', fontsize='8',
        color=EDGE_COLOR, arrowsize='0.6')
    graph.set('label', _label(
            title or 'Sharing map of database "%s"' % (
                catalog.current_database(cursor) or ''),
            *LEGEND))

    clusters = {}
    for index, schema in enumerate(shown_schemas):
        if schema == shared_schema:
            label = 'Shared schema "%s"' % schema
            attributes = {'style': 'filled', 'fillcolor': '#f3f8fd',
                'color': '#3d85c6', 'penwidth': '2'}
        else:
            name, role = instances.get(schema, (None, None))
            if name:
                label = 'Instance "%s" (%s), schema "%s"' % (
                    name, role, schema)
            else:
                label = 'Schema "%s"' % schema
            attributes = {'style': 'rounded', 'color': '#999999'}
        cluster = pydot.Cluster('schema_%s' % index,
            label=_label(label), fontname='Helvetica', fontsize='12',
            **attributes)
        graph.add_subgraph(cluster)
        clusters[schema] = cluster

    shared_names = {t for (s, t) in boxes if s == shared_schema}
    for (schema, table), relation in sorted(boxes.items()):
        model = models.get(table)
        if schema == shared_schema and table in names:
            fill, kind = SHARED_COLOR, 'shared'
        elif table in names and table not in in_shared:
            fill, kind = SHARED_SET_COLOR, 'to share'
        elif table in shared_names or table in in_shared:
            fill, kind = SHADOW_COLOR, 'shadow'
        elif schema == shared_schema:
            fill, kind = PRIVATE_COLOR, 'not in the set'
        else:
            fill, kind = PRIVATE_COLOR, 'private'
        tooltip = '%s.%s (%s)' % (schema, table, kind)
        if model and model != table:
            tooltip += ': %s' % model
        clusters[schema].add_node(pydot.Node(node_name(schema, table),
                label=_label(table), fillcolor=fill, tooltip=tooltip,
                kind=kind))

    for fk in fks:
        source = node_name(fk.schema, fk.table)
        target = node_name(fk.target_schema, fk.target_table)
        columns = ', '.join(fk.columns)
        attributes = {
            'tooltip': '%s: %s.%s(%s) -> %s.%s ON DELETE %s' % (
                fk.name, fk.schema, fk.table, columns, fk.target_schema,
                fk.target_table, fk.on_delete),
            'on_delete': fk.on_delete,
            'fk_name': fk.name,
            }
        source_shared = is_shared(fk.schema, fk.table)
        target_shared = is_shared(fk.target_schema, fk.target_table)
        if source_shared and not target_shared:
            attributes.update(color=OUTSIDE_COLOR, fontcolor=OUTSIDE_COLOR,
                penwidth='2', label=_label(columns, 'shared -> private'),
                kind='outside')
        elif (not source_shared and target_shared
                and fk.on_delete == 'CASCADE'):
            attributes.update(color=CASCADE_COLOR, fontcolor=CASCADE_COLOR,
                style='dashed', penwidth='1.5',
                label=_label(columns, 'ON DELETE CASCADE'),
                kind='cascade')
        elif source_shared:
            attributes.update(label=_label(columns), kind='shared')
        else:
            attributes.update(label=_label(columns), kind='private')
        graph.add_edge(pydot.Edge(source, target, **attributes))
    return graph


def nodes(graph):
    "Every node of graph, clusters included, as {name: pydot.Node}"
    result = {}
    for node in graph.get_nodes():
        result[node.get_name().strip('"')] = node
    for subgraph in graph.get_subgraphs():
        result.update(nodes(subgraph))
    result.pop('node', None)
    result.pop('edge', None)
    result.pop('graph', None)
    return result


def write(graph, path):
    """Render graph into path, as SVG or PNG after its extension (.dot and
    .gv give the DOT text); return the path"""
    extension = os.path.splitext(str(path))[1].lower()
    try:
        format_ = FORMATS[extension]
    except KeyError:
        raise ValueError('Unknown map format "%s": use one of %s.' % (
                extension, ', '.join(sorted(FORMATS))))
    graph.write(str(path), prog='dot', format=format_)
    return path


def render(graph, format_='png'):
    "The bytes of graph rendered in format_ by graphviz"
    return graph.create(prog='dot', format=format_)
