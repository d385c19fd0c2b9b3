# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Smoke test of benchmarks/run.py: it runs with tiny sizes and writes its
page.  Timings are figures for the page; nothing here asserts one."""
import json
import subprocess
import sys
from pathlib import Path

from . import harness

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / 'benchmarks' / 'run.py'


def leftovers(pid):
    "The databases and roles that process pid made with harness.unique_name"
    with harness.admin_connect() as conn:
        names = conn.execute(
            'SELECT datname FROM pg_database UNION ALL '
            'SELECT rolname FROM pg_roles').fetchall()
    return {n for n, in names if '_%d_' % pid in n}


def test_quick_run(tmp_path):
    output = tmp_path / 'benchmarks.rst'
    figures = tmp_path / 'figures.json'
    process = subprocess.Popen([sys.executable, str(SCRIPT), '--quick',
            '--output', str(output), '--json', str(figures)],
        cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        stdout, stderr = process.communicate(timeout=1200)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    assert process.returncode == 0, stdout[-4000:] + stderr[-4000:]
    # Everything the script created is gone.
    assert not leftovers(process.pid)

    page = output.read_text()
    for title in ['Machine', 'Summary',
            '1. Setup cost against the size of the data',
            '2. Copy of the model data to a secondary',
            '3. Run-time overhead',
            '4. Analysis and status on a large catalog',
            '5. Peak memory']:
        assert '\n%s\n---' % title in page, title
    assert 'python benchmarks/run.py --quick' in page

    data = json.loads(figures.read_text())
    assert set(data) >= {
        'machine', 'sizes', 'setup', 'copy', 'throughput', 'analysis'}
    for key in ['small', 'large']:
        module = data['setup'][key]['module']
        assert len(module['runs']) == data['sizes']['setup_repeat']
        assert module['moved'] > 0
    assert data['copy']['counts']['missing'] >= data['sizes']['copy_rows']
    runs = data['throughput']['runs']
    assert len(runs['shared']) == len(runs['private']) == (
        data['sizes']['throughput_repeat'])
