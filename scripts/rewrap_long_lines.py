"""Rewrap the lines over 120 characters in the notebooks' exported cells without changing the code.

    python scripts/rewrap_long_lines.py nbs/*.ipynb     # then nbdev_export && nbdev_clean

One long line at a time: a one-line `if/except/with/def ...: body` gets its body on the next line, a call that ends
the line breaks after one of its arguments (aligned under its bracket), a long string splits into two adjacent
literals at a space. A change is kept only when the cell's AST stays identical, so the exported modules do not change
(compare `ast.dump` of each module before and after). Docstrings, docments comments and `__all__` are left alone.
"""
import ast, io, json, re, sys, tokenize
LIMIT = 120
COMPOUND = ('if', 'elif', 'else', 'for', 'while', 'with', 'try', 'except', 'finally', 'def')

def norm(src):
    lines = ['#' + l[1:] if l[:1] in '%!' else l for l in src.split('\n')]
    return ast.dump(ast.parse('\n'.join(lines)))

def toks(line):
    try: return list(tokenize.generate_tokens(io.StringIO(line + '\n').readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return None

def indent_of(line): return len(line) - len(line.lstrip(' '))

def split_compound(line):
    "`if x: stmt` -> `if x:` / `    stmt`"
    ts = toks(line)
    if not ts: return None
    first = next((t for t in ts if t.type == tokenize.NAME), None)
    if not first or first.string not in COMPOUND: return None
    depth, lam = 0, 0
    for t in ts:
        if t.type == tokenize.OP and t.string in '([{': depth += 1
        elif t.type == tokenize.OP and t.string in ')]}': depth -= 1
        elif t.type == tokenize.NAME and t.string == 'lambda' and depth == 0: lam += 1
        elif t.type == tokenize.OP and t.string == ':' and depth == 0:
            if lam: lam -= 1; continue
            head, body = line[:t.end[1]], line[t.end[1]:].strip()
            if not body or body.startswith('#'): return None
            return [head, ' ' * (indent_of(line) + 4) + body]
    return None

def split_comma(line):
    "Break after a comma between the arguments of the call that ends the line (the outermost that allows it)"
    ts = toks(line)
    if not ts: return None
    stack, commas, prev, closes = [], [], None, {}   # stack: [column after the bracket, is a call, in a `for`, id]
    for k, t in enumerate(ts):
        if t.type == tokenize.COMMENT: break
        if t.type == tokenize.OP and t.string in '([{':
            call = t.string == '(' and prev is not None and (prev.type == tokenize.NAME and prev.string not in
                   ('if', 'in', 'and', 'or', 'not', 'return', 'else', 'for', 'lambda', 'yield', 'await')
                   or prev.string in (')', ']'))
            stack.append([t.end[1], call, False, k])
        elif t.type == tokenize.OP and t.string in ')]}':
            if stack: closes[stack.pop()[3]] = t.end[1]
        elif t.type == tokenize.NAME and t.string == 'for' and stack: stack[-1][2] = True
        elif t.type == tokenize.NAME and t.string == 'in' and stack: stack[-1][2] = False
        elif t.type == tokenize.OP and t.string == ',' and stack and stack[-1][1] and not stack[-1][2]:
            if line[t.end[1]:].strip(): commas.append((t.end[1], stack[-1][0], len(stack), stack[-1][3]))
        # (commas inside a `for` target, a tuple, a list or a dict are never split)
        prev = t
    code_end = len(line.split('  #')[0].rstrip()) if '  #' in line else len(line.rstrip())
    ok = []
    for cut, col, depth, opener in commas:
        close = closes.get(opener)
        if close is None or cut > LIMIT or col > 88: continue
        tail = line[close:code_end]
        if re.fullmatch(r"[\)\]\}:,\s]*(from None)?\s*", tail): ok.append((depth, cut, col))
    if not ok: return None
    top = min(d for d, _, _ in ok)
    cut, col = max((c, col) for d, c, col in ok if d == top)
    second = ' ' * col + line[cut:].lstrip()
    if len(second) >= len(line) or len(line[cut:].strip()) < 12: return None
    return [line[:cut].rstrip(), second]

def split_string(line):
    "Split the string literal that crosses the limit into two adjacent literals at a space"
    ts = toks(line)
    if not ts: return None
    for t in ts:
        if t.type != tokenize.STRING or t.end[1] <= LIMIT or t.start[1] >= LIMIT - 10: continue
        s = t.string
        m = re.match(r'([rRbBuUfF]*)(\'\'\'|"""|\'|")', s)
        if not m or m.group(2) in ('"""', "'''"): continue
        prefix, q = m.groups()
        body = s[len(prefix) + len(q):-len(q)]
        start = t.start[1] + len(prefix) + len(q)
        limit = LIMIT - 1 - start   # room for the closing quote
        cuts = [i + 1 for i, ch in enumerate(body) if ch == ' ' and i + 1 <= limit and i > 10]
        if 'f' in prefix.lower():   # not inside a {replacement}
            depth, ok = 0, set()
            for i, ch in enumerate(body):
                if ch == '{': depth += 1
                elif ch == '}': depth -= 1
                if ch == ' ' and depth == 0: ok.add(i + 1)
            cuts = [c for c in cuts if c in ok]
        if not cuts: continue
        c = cuts[-1]
        a, b = body[:c], body[c:]
        if len(b) < 20: continue
        pa = prefix if ('{' in a or 'f' not in prefix.lower()) else prefix.replace('f', '').replace('F', '')
        pb = prefix if ('{' in b or 'f' not in prefix.lower()) else prefix.replace('f', '').replace('F', '')
        first = line[:t.start[1]] + pa + q + a + q
        second = ' ' * t.start[1] + pb + q + b + q + line[t.end[1]:]
        return [first, second]
    return None

def wrap_line(line, depth=0):
    if len(line) <= LIMIT or depth > 6: return [line]
    for rule in (split_compound, split_comma, split_string):
        r = rule(line)
        if r:
            out = []
            for l in r: out += wrap_line(l, depth + 1)
            return out
    return [line]

def wrap_cell(src):
    "Each long line rewrapped, one at a time, kept only when the cell's AST stays the same"
    lines, i = src.split('\n'), 0
    try: ref = norm(src)
    except SyntaxError: return src
    while i < len(lines):
        l = lines[i]
        if len(l) > LIMIT and not l.lstrip().startswith('#'):
            w = wrap_line(l)
            if w != [l]:
                trial = lines[:i] + w + lines[i + 1:]
                try: ok = norm('\n'.join(trial)) == ref
                except SyntaxError: ok = False
                if ok: lines = trial; i += len(w); continue
        i += 1
    return '\n'.join(lines)

def rewrap_notebook(path:str)->tuple:
    "Rewrap a notebook's exported cells in place; (long lines before, after)"
    nb = json.load(open(path)); before = after = 0
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or not src.startswith('#| export'): continue
        new = wrap_cell(src)
        before += sum(len(l) > LIMIT for l in src.split('\n')); after += sum(len(l) > LIMIT for l in new.split('\n'))
        c['source'] = new.splitlines(keepends=True)
    open(path, 'w').write(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    return before, after

if __name__ == '__main__':
    for p in sys.argv[1:]: print(p, '%d -> %d lines over %d' % (*rewrap_notebook(p), LIMIT))
