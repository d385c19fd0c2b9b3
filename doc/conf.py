# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import configparser
import os

_config = configparser.ConfigParser()
_config.read(os.path.join(os.path.dirname(__file__), '..', 'tryton.cfg'))

project = 'Tryton Shared Schema Module'
copyright = '2026, the shared_schema authors'
author = 'the shared_schema authors'
release = _config.get('tryton', 'version')
version = '.'.join(release.split('.')[:2])

extensions = []
templates_path = []
exclude_patterns = ['_build', 'snippets']
master_doc = 'index'
language = 'en'
pygments_style = 'sphinx'
html_theme = 'alabaster'
html_static_path = []
