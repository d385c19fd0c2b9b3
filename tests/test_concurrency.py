# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""benchmarks/concurrency.py in a small mode: counts, not timings."""
import importlib.util
from pathlib import Path

import pytest

from .safety_env import shared_env

SCRIPT = Path(__file__).resolve().parent.parent / 'benchmarks' / (
    'concurrency.py')


def load_script():
    spec = importlib.util.spec_from_file_location(
        'shared_schema_concurrency', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def env(request, tmp_path_factory):
    return shared_env(request, tmp_path_factory)


def test_concurrent_writers_and_setup_under_writes(env, capsys):
    script = load_script()
    parties, workers = 15, 4
    figures = script.run(env, parties, workers)
    printed = capsys.readouterr().out
    assert 'parties/s' in printed and 'duplicate codes' in printed

    database = figures['database']
    assert database['duplicate_codes'] == 0, figures
    assert database['lost'] == 0, figures
    assert database['unexpected'] == 0, figures
    for name, info in figures['instances'].items():
        assert info['errors'] == {}, (name, info)
        assert info['worker_failures'] == [], (name, info)
        assert info['created'] == parties * workers, (name, info)
    assert database['parties'] == 2 * parties * workers
    assert database['addresses'] == database['parties']
    prefixes = {name: set(info['code_prefixes'])
        for name, info in figures['instances'].items()}
    assert prefixes == {'one': {'1-'}, 'two': {'2-'}}, prefixes

    during = figures['setup_under_writes']
    assert during['setup_error'] is None, during
    assert during['write_errors'] == 0, during
    assert during['writes'] > 0, during
    assert during['parties_in_database'] == during['writes'], during
    assert during['duplicate_codes'] == 0, during
    assert during['secondary_party_code'].startswith('2-'), during
