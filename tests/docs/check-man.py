#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every exported symbol has a man page, and the pages hang together.

  check-man.py --sym lib/libiommufd.sym --man man/

1. every name of the .sym file is documented: it is named in the NAME
   section of a man(3) page (the page itself or an alias generated from it);
2. every page of man/ is listed (installed) in man/meson.build;
3. every function a page names appears in its SYNOPSIS and the other way
   round, and is exported; no name is documented by two pages;
4. every function page has NAME, SYNOPSIS, DESCRIPTION, RETURN VALUE,
   ERRORS and SEE ALSO;
5. every reference to an iommufd page (".BR iommufd_x (3)") resolves to a
   page or an alias.
Prints every problem and exits 1 if there was any.
"""
import argparse
import glob
import os
import re
import sys

REQUIRED = ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'RETURN VALUE', 'ERRORS', 'SEE ALSO']
OVERVIEW_REQUIRED = ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'SEE ALSO']

problems = []


def problem(msg):
    problems.append(msg)


def sym_names(path):
    text = re.sub(r'/\*.*?\*/', '', open(path).read(), flags=re.S)
    names = []
    for node in re.finditer(r'\{(.*?)\}', text, flags=re.S):
        section = None
        for tok in re.finditer(r'(global|local)\s*:|([\w*]+)\s*;', node.group(1)):
            if tok.group(1):
                section = tok.group(1)
            elif section == 'global':
                names.append(tok.group(2))
    return names


def sections(text):
    """{section title: body}"""
    out = {}
    parts = re.split(r'^\.SH\s+(.*)$', text, flags=re.M)
    for i in range(1, len(parts), 2):
        out[parts[i].strip().strip('"')] = parts[i + 1]
    return out


def name_list(name_body):
    head = name_body.split('\\-')[0]
    return [n.strip() for n in head.replace('\n', ' ').split(',') if n.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sym', required=True, action='append',
                    help='a symbol file (once per library)')
    ap.add_argument('--man', required=True, help='the man/ source directory')
    args = ap.parse_args()

    exported = set(n for path in args.sym for n in sym_names(path))
    meson_build = open(os.path.join(args.man, 'meson.build')).read()
    listed = set(re.findall(r"^\s*'([\w.]+)',", meson_build, flags=re.M))

    documented = {}   # name -> page
    pages = {}
    for path in sorted(glob.glob(os.path.join(args.man, '*.3'))):
        page = os.path.basename(path)[:-2]
        text = open(path).read()
        pages[page] = text
        if page not in listed:
            problem(f'man/{page}.3 is not listed in man3_pages of man/meson.build (not installed)')
        secs = sections(text)
        overview = page == 'libiommufd'
        for s in OVERVIEW_REQUIRED if overview else REQUIRED:
            if s not in secs:
                problem(f'{page}(3): no {s} section')
        if 'NAME' not in secs:
            continue
        names = name_list(secs['NAME'])
        if not overview and page not in names:
            problem(f'{page}(3): its NAME section does not name {page}')
        synopsis = secs.get('SYNOPSIS', '')
        declared = set(re.findall(r'\b(iommufd_\w+)\(', synopsis))
        for n in names:
            if n in documented:
                problem(f'{n} is named by both {documented[n]}(3) and {page}(3)')
            documented[n] = page
            if overview:
                continue
            if n not in exported:
                problem(f'{page}(3) documents {n}, which no symbol file exports')
            if n not in declared:
                problem(f'{page}(3) names {n} but its SYNOPSIS does not declare it')
        for n in sorted(declared - set(names)):
            problem(f'{page}(3) declares {n} in its SYNOPSIS but does not name it in NAME '
                    f'(no alias page would be installed)')
    for page in sorted(listed):
        if page not in pages and not os.path.exists(os.path.join(args.man, page)):
            problem(f'man/meson.build lists {page} but man/{page}.3 does not exist')

    missing = sorted(exported - set(documented))
    for n in missing:
        problem(f'{n}: exported, but no man page documents it')

    # references to iommufd pages resolve
    for path in sorted(glob.glob(os.path.join(args.man, '*.[1-8]'))):
        text = open(path).read()
        for ref in sorted(set(re.findall(r'\b((?:lib)?iommufd_\w+) \(3\)', text))):
            if ref not in documented:
                problem(f'{os.path.basename(path)}: reference to {ref}(3), which no page documents')

    print(f'# {len(exported)} exported symbols, {len(pages)} pages, '
          f'{len(documented)} names documented, {len(missing)} undocumented')
    for p in problems:
        print('FAIL:', p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
