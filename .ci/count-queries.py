# SQL lives in src/db: a query statement anywhere else in src/ fails this check (exit 1). src/db/queries holds the
# application's statements; the rest of src/db is the database infrastructure (client, migrations, advisory locks)
# and is allowed too.
#
# A query statement: a .select/.selectDistinct/.insert/.update/.delete/.execute( call whose receiver is
# db/tx/this.db/services.db (same line) or that starts a chained line (`await tx\n  .update(`), minus crypto chains
# (createHash/createHmac/cipher in the preceding 150 chars), plus db.query.* reads.
#
# Usage: python3 .ci/count-queries.py [files…]   (no files: every .ts under src/)
import os, re, sys
pat = re.compile(r'(?:\b(?:db|tx|this\.db|services\.db)\s*|^[ \t]*)\.(select|selectDistinct|insert|update|delete|execute)\(|\b(?:db|tx)\.query\.', re.M)
def count(path):
    s = open(path).read(); n = 0
    for m in pat.finditer(s):
        back = s[max(0, m.start()-150):m.start()]
        if re.search(r'createHash|createHmac|[cC]ipher', back): continue
        n += 1
    return n
def allowed(path):
    p = os.path.normpath(path).replace(os.sep, '/')
    return p.startswith('src/db/') or '/src/db/' in p
files = sys.argv[1:]
if not files:
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    os.chdir(root)
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk('src') for f in fs if f.endswith('.ts'))
tot = 0
for f in files:
    if allowed(f) or not f.endswith('.ts'): continue
    n = count(f)
    if n: print(f'{n:4d} {f}'); tot += n
print(f'{tot:4d} query statements outside src/db')
if tot:
    print('move them into src/db/queries (a file named after what it holds)', file=sys.stderr)
    sys.exit(1)
