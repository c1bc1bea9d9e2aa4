"Packaging for `willie`: everything is read from settings.ini, the nbdev project file."
from configparser import ConfigParser
from setuptools import setup, find_packages

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

setup(
    name=cfg['lib_name'], version=cfg['version'], description=cfg['description'],
    long_description=open('README.md', encoding='utf-8').read(), long_description_content_type='text/markdown',
    author=cfg['author'], license='Apache-2.0', url=cfg['git_url'], keywords=cfg['keywords'].split(),
    classifiers=['Programming Language :: Python :: 3',
                 'Topic :: Scientific/Engineering :: Artificial Intelligence'],
    project_urls={'Source': cfg['git_url']},
    python_requires='>=' + cfg['min_python'],
    packages=find_packages(include=['willie', 'willie.*']),
    package_data={'willie': ['weights/*.safetensors', 'weights/*.json']},
    install_requires=cfg['requirements'].split(),
    extras_require={'dev': cfg['dev_requirements'].split(), 'gpu': ['flash-attn>=2.5']},
    entry_points={'console_scripts': cfg['console_scripts'].split(),
                  'nbdev': [f"{cfg['lib_name']}={cfg['lib_name']}._modidx:d"]},
)
