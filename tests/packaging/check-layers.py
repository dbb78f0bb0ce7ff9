#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The layers of lib/ include only what is below them or shared.

  check-layers.py SOURCE_ROOT

- lib/shared/ (used on both sides of the kernel boundary) includes nothing of
  lib/ outside lib/shared/;
- the emulator (lib/emu/, below the boundary) includes nothing of libiommufd's
  private layer (private.h, lib/core/, lib/device/);
- libiommufd (lib/*.c, lib/core/, lib/device/, lib/dma/, lib/type1/, above
  the boundary)
  includes nothing of the emulator (lib/emu/, iommufd-emu.h).
Prints every offending #include and exits 1 if there is any.
"""
import os
import re
import sys

root = sys.argv[1]
lib = os.path.join(root, 'lib')
above_private = re.compile(r'^(private\.h|core/|device/|dma/|type1/|core\.h|device-private\.h|\.\./)')
problems = []


def includes(path):
    with open(path, errors='replace') as f:
        for n, line in enumerate(f, 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if m:
                yield n, m.group(1)


def files(sub):
    d = os.path.join(lib, sub)
    for dirpath, _, names in os.walk(d):
        for name in names:
            if name.endswith(('.c', '.h')):
                yield os.path.join(dirpath, name)


for path in files('shared'):
    for n, inc in includes(path):
        if '/' in inc or inc.startswith('..') or inc in ('private.h', 'iommufd-emu.h'):
            problems.append(f'{path}:{n}: the shared layer includes "{inc}"')
for path in files('emu'):
    for n, inc in includes(path):
        if above_private.match(inc) or inc in ('private.h', 'core.h', 'device-private.h'):
            problems.append(f'{path}:{n}: the emulator includes "{inc}" of the layer above')
above = [os.path.join(lib, n) for n in os.listdir(lib) if n.endswith(('.c', '.h'))]
for sub in ('core', 'device', 'dma', 'type1'):
    above += list(files(sub))
for path in above:
    for n, inc in includes(path):
        if inc.startswith('emu/') or inc == 'iommufd-emu.h':
            problems.append(f'{path}:{n}: libiommufd includes the emulator\'s "{inc}"')

for p in problems:
    print('FAIL:', p)
print(f'# {len(above)} files above the boundary, the emulator and the shared layer checked')
sys.exit(1 if problems else 0)
