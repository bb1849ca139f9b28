#!/usr/bin/env bash
# Installs what the service needs (Debian, as root) and shows it working on its embedded
# defaults: shipped configuration, SQLite in $SVI_ACD_DATA, a demo VIP directory.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

install_system_packages
make_venv test
export SVI_ACD_DATA="${SVI_ACD_DATA:-$PWD/var}"
cli=.venv/bin/svi-acd

say "Configuration livrée"
$cli config check

say "Annuaire VIP de démonstration (lab/demo/annuaire-vip.csv)"
$cli vip import lab/demo/annuaire-vip.csv
$cli vip list

say "Que se passe-t-il si… (svi-acd route)"
for example in \
  "01 45 67 89 12|2026-12-02T10:00" \
  "0696 20 12 34|2026-07-08T13:00" \
  "0594 10 12 34|2026-07-08T13:00" \
  "+687 25 12 34|2026-07-08T12:00" \
  "+508 41 12 34|2026-03-20T11:30" \
  "06 12 34 56 78|2026-12-25T10:00"; do
  caller=${example%%|*} at=${example#*|}
  echo "--- $caller le $at (heure de Paris)"
  $cli route --caller "$caller" --at "$at"
done
