# Query statements outside src/db/queries: a .select/.selectDistinct/.insert/.update/.delete/.execute( call whose
# receiver is db/tx/this.db/services.db (same line) or that starts a chained line (`await tx\n  .update(`),
# minus crypto chains (createHash/createHmac/cipher in the preceding 150 chars), plus db.query.* reads.
import re, sys
pat = re.compile(r'(?:\b(?:db|tx|this\.db|services\.db)\s*|^[ \t]*)\.(select|selectDistinct|insert|update|delete|execute)\(|\b(?:db|tx)\.query\.', re.M)
def count(path):
    s = open(path).read(); n = 0
    for m in pat.finditer(s):
        back = s[max(0, m.start()-150):m.start()]
        if re.search(r'createHash|createHmac|[cC]ipher', back): continue
        n += 1
    return n
tot = 0
for f in sys.argv[1:]:
    if '/db/queries/' in f or not f.endswith('.ts'): continue
    n = count(f)
    if n: print(f'{n:4d} {f}'); tot += n
print(f'{tot:4d} TOTAL')
