#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check that the public header, the version script and the built library agree.

  check-symbols.py --header include/iommufd.h --sym lib/libiommufd.sym
                   [--lib libiommufd.so] [--nm nm] [--uapi linux/iommufd.h ...]

1. every IOMMUFD_EXPORT function of the header is in the .sym file and back;
2. the .sym file is well formed: one node per release, each later node
   chained to the one before it, "local: *;" only in the first;
3. every symbol the built library exports (nm -D --defined-only) carries the
   iommufd_ prefix and is listed in the .sym file, and every listed name is
   really exported;
4. every name the header declares carries the library's prefix, and none of
   the names declared by the kernel UAPI headers (--uapi) is reused.

Prints every problem found and exits 1 if there was any.
"""
import argparse
import re
import subprocess
import sys

problems = []


def problem(msg):
    problems.append(msg)


def strip_c_comments(text):
    text = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), text,
                  flags=re.S)
    return re.sub(r'//[^\n]*', '', text)


def join_continuations(text):
    return re.sub(r'\\\n', ' ', text)


def split_preprocessor(text):
    """(code without preprocessor lines, list of preprocessor lines)"""
    code, pp = [], []
    for line in join_continuations(text).split('\n'):
        (pp if line.lstrip().startswith('#') else code).append(line)
    return '\n'.join(code), pp


EXPORT_MACRO = 'IOMMUFD_EXPORT'


def header_exports(code):
    """names of the functions declared with the export macro"""
    names = []
    for decl in re.finditer(r'\b' + EXPORT_MACRO + r'\b([^;{]*?)\(', code, flags=re.S):
        m = re.search(r'(\w+)\s*$', decl.group(1))
        if not m:
            problem(f'header: cannot parse the declaration "{EXPORT_MACRO}{decl.group(1)}("')
            continue
        names.append(m.group(1))
    return names


def declared_names(text):
    """every name a C header declares: {name: kind}"""
    code, pp = split_preprocessor(strip_c_comments(text))
    names = {}
    for line in pp:
        m = re.match(r'\s*#\s*define\s+(\w+)', line)
        if m:
            names[m.group(1)] = 'macro'
    for m in re.finditer(r'\b(struct|enum|union)\s+(\w+)\s*\{', code):
        names[m.group(2)] = m.group(1)
    for m in re.finditer(r'\benum\b\s*\w*\s*\{(.*?)\}', code, flags=re.S):
        for e in re.finditer(r'(?:^|,)\s*([A-Za-z_]\w*)', m.group(1)):
            names[e.group(1)] = 'enumerator'
    for m in re.finditer(r'\btypedef\b[^;]*?\(\s*\*\s*(\w+)\s*\)', code, flags=re.S):
        names[m.group(1)] = 'typedef'
    for m in re.finditer(r'\btypedef\b[^;(]*?\b(\w+)\s*;', code, flags=re.S):
        names[m.group(1)] = 'typedef'
    for n in header_exports(code):
        names[n] = 'function'
    return names


def sym_file(text):
    """(names of all global: sections, list of (node, parent) pairs)"""
    text = strip_c_comments(text)
    names, nodes = [], []
    for m in re.finditer(r'(\w[\w.]*)\s*\{(.*?)\}\s*([\w.]*)\s*;', text, flags=re.S):
        node, body, parent = m.group(1), m.group(2), m.group(3)
        nodes.append((node, parent, body))
        section = None
        for tok in re.finditer(r'(global|local)\s*:|([\w*]+)\s*;', body):
            if tok.group(1):
                section = tok.group(1)
            elif section == 'global':
                names.append(tok.group(2))
            elif section == 'local' and tok.group(2) != '*':
                problem(f'sym: unexpected local name {tok.group(2)} in node {node}')
            elif section is None:
                problem(f'sym: name {tok.group(2)} outside global:/local: in node {node}')
    return names, nodes


def check_nodes(nodes):
    if not nodes:
        problem('sym: no version node found')
        return
    for i, (node, parent, body) in enumerate(nodes):
        if i == 0:
            if parent:
                problem(f'sym: the first node {node} must not inherit ({parent})')
            if not re.search(r'local\s*:\s*\*\s*;', body):
                problem(f'sym: the first node {node} lacks "local: *;"')
        else:
            if parent != nodes[i - 1][0]:
                problem(f'sym: node {node} must be chained to {nodes[i - 1][0]} '
                        f'("}} {nodes[i - 1][0]};"), found "{parent}"')
            if re.search(r'local\s*:', body):
                problem(f'sym: only the first node may have local:, {node} has one')


def dup(names, where):
    seen = set()
    for n in names:
        if n in seen:
            problem(f'{where}: {n} listed twice')
        seen.add(n)


def library_symtab(nm, lib):
    """the names of every function defined in the library, exported or not"""
    out = subprocess.run([nm, '--defined-only', lib], check=True,
                         capture_output=True, text=True).stdout
    return [line.split()[-1] for line in out.splitlines()
            if len(line.split()) >= 3 and line.split()[-2] in 'tT']


def library_exports(nm, lib):
    out = subprocess.run([nm, '-D', '--defined-only', lib], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        kind, name = parts[-2], parts[-1]
        if kind == 'A':  # the version node names themselves
            continue
        syms[name.split('@')[0]] = kind
    return syms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--header', required=True)
    ap.add_argument('--sym', required=True)
    ap.add_argument('--lib')
    ap.add_argument('--nm', default='nm')
    ap.add_argument('--uapi', action='append', default=[],
                    help='a kernel UAPI header whose names must not be reused')
    ap.add_argument('--export-macro', default='IOMMUFD_EXPORT')
    ap.add_argument('--prefix', default='iommufd_',
                    help='the prefix of every exported function')
    ap.add_argument('--forbid', action='append', default=[],
                    help='a prefix no exported symbol may carry (another library\'s)')
    ap.add_argument('--forbid-code', action='append', default=[],
                    help='a prefix no function in the library, exported or not, may carry')
    ap.add_argument('--header-guard', default='LIBIOMMUFD_H')
    args = ap.parse_args()
    global EXPORT_MACRO
    EXPORT_MACRO = args.export_macro

    with open(args.header) as f:
        header_text = f.read()
    with open(args.sym) as f:
        sym_text = f.read()

    code, _ = split_preprocessor(strip_c_comments(header_text))
    exports = header_exports(code)
    dup(exports, 'header')
    sym_names, nodes = sym_file(sym_text)
    dup(sym_names, 'sym')
    check_nodes(nodes)

    for n in sorted(set(exports) - set(sym_names)):
        problem(f'{n}: {EXPORT_MACRO} in the header but missing from the .sym file')
    for n in sorted(set(sym_names) - set(exports)):
        problem(f'{n}: in the .sym file but not declared {EXPORT_MACRO} in the header')
    print(f'# header: {len(exports)} exported functions; sym: {len(sym_names)} names')

    if args.lib:
        syms = library_exports(args.nm, args.lib)
        for n in sorted(syms):
            if not n.startswith(args.prefix):
                problem(f'{n}: exported by {args.lib} without the {args.prefix} prefix')
            for f in args.forbid:
                if n.startswith(f):
                    problem(f'{n}: exported by {args.lib}, but {f}* belongs to another library')
            if n not in sym_names:
                problem(f'{n}: exported by {args.lib} but not in the .sym file')
        for n in sorted(set(sym_names) - set(syms)):
            problem(f'{n}: in the .sym file but not defined/exported by {args.lib}')
        print(f'# library: {len(syms)} exported symbols')
        if args.forbid_code:
            funcs = library_symtab(args.nm, args.lib)
            for n in funcs:
                for f in args.forbid_code:
                    if n.startswith(f):
                        problem(f'{n}: code of another library ({f}*) in {args.lib}')
            print(f'# library: {len(funcs)} functions, none of '
                  + ', '.join(f + '*' for f in args.forbid_code))

    # every declared name carries the prefix
    ours = declared_names(header_text)
    for n, kind in sorted(ours.items()):
        if n == args.header_guard:
            continue
        if kind in ('macro', 'enumerator'):
            ok = n.startswith('IOMMUFD_')
        else:
            ok = n.startswith('iommufd_')
        if not ok:
            problem(f'header: {kind} {n} does not carry the library prefix')
    for m in re.finditer(r'\b(struct|enum|union)\s+(iommu_\w+)', code):
        problem(f'header: uses the kernel UAPI type {m.group(1)} {m.group(2)}')

    if not args.uapi:
        print('# no UAPI header given (meson option uapi_headers empty): '
              'UAPI name reuse not checked')
    for path in args.uapi:
        with open(path) as f:
            theirs = declared_names(f.read())
        clash = sorted(set(ours) & set(theirs))
        for n in clash:
            problem(f'header: {ours[n]} {n} reuses a name of {path} ({theirs[n]})')
        print(f'# {path}: {len(theirs)} names, {len(clash)} reused')

    for p in problems:
        print('FAIL:', p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
