#!/usr/bin/env bash
# src/ names no provider outside the registry wiring: a provider's specifics live in connectors/<provider>/ and
# reach src/ through the connector registry (connectors/index.ts). Fails listing every *.ts line under src/ that
# names a registered provider as a word, except in the allow-listed files below. (.tsx pages may name a provider
# in UI copy.)
set -euo pipefail
cd "$(dirname "$0")/.."

# Providers: the keys of the registry (`export const connectors = { quickbooks, netsuite } as const;`).
providers=$(sed -n 's/^export const connectors = {\(.*\)} as const;.*/\1/p' connectors/index.ts | tr ',' '\n' | sed 's/[[:space:]]//g; s/:.*//' | grep -v '^$' || true)
if [ -z "$providers" ]; then
  echo "check-provider-names: could not read the providers from connectors/index.ts" >&2
  exit 2
fi

# Files that may name a provider, and why.
allowed=(
  src/demo.ts             # `duely demo`: the local QuickBooks sandbox, connected through OAuth
  src/demo-company.ts     # the built-in demo company and the QuickBooks availability it decides
  src/web/lib/types.ts    # mirrors GET /api/v1/integrations, keyed by provider
)

status=0
for p in $providers; do
  exclude=()
  for f in "${allowed[@]}"; do exclude+=(":(exclude)$f"); done
  hits=$(git grep --untracked -n -i -w -I "$p" -- 'src/*.ts' 'src/**/*.ts' "${exclude[@]}" || true)
  if [ -n "$hits" ]; then
    echo "Provider name '$p' in src/ outside the registry wiring (move it into connectors/$p/ or the registry):"
    echo "$hits"
    status=1
  fi
done
[ $status -eq 0 ] && echo "check-provider-names: src/ names no provider outside: ${allowed[*]}"
exit $status
