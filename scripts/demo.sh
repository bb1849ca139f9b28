#!/usr/bin/env bash
# Installs what the service needs (Debian, as root) and starts it on its embedded defaults:
# the shipped configuration, SQLite in ./var, a local Asterisk lab (chroot, 127.0.0.1) and a
# demo call. `bash scripts/demo.sh stop` stops the service and the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
export SVI_ACD_DATA="${SVI_ACD_DATA:-$PWD/var}"
cli=.venv/bin/svi-acd
pid_file="$SVI_ACD_DATA/service.pid"
log_file="$SVI_ACD_DATA/service.log"

stop_service() {
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    kill "$(cat "$pid_file")" && say "Service arrêté"
  fi
  rm -f "$pid_file"
}

if [ "${1:-}" = "stop" ]; then
  stop_service
  [ -x "$cli" ] && $cli lab down
  exit 0
fi

install_system_packages
make_venv test
install_web_assets
mkdir -p "$SVI_ACD_DATA"

say "Configuration livrée"
$cli config check

say "Annuaire VIP de démonstration (lab/demo/annuaire-vip.csv)"
$cli vip import lab/demo/annuaire-vip.csv

say "Comptes de démonstration des pages web et de l'API"
# One account per role, a fresh password at each run (kept in $SVI_ACD_DATA, readable by you
# only), and an API token for the supervisor: the API refuses calls without one.
accounts_file="$SVI_ACD_DATA/demo-comptes.txt"
token_file="$SVI_ACD_DATA/demo-jeton.txt"
existing=$($cli user list --json)
(umask 077; : >"$accounts_file")
for role in superviseur consultation admin; do
  login="demo.$role"
  password=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')
  if printf '%s' "$existing" | grep -q "\"$login\""; then
    printf '%s\n' "$password" | $cli user passwd "$login" --password-stdin >/dev/null
  else
    printf '%s\n' "$password" | $cli user add "$login" --role "$role" --password-stdin >/dev/null
  fi
  printf '%-18s %s\n' "$login" "$password" >>"$accounts_file"
done
(umask 077; $cli user token demo.superviseur --name "démonstration" 2>/dev/null >"$token_file")
token=$(cat "$token_file")
echo "Identifiants : $accounts_file ; jeton d'API du superviseur : $token_file"

say "Laboratoire Asterisk sur 127.0.0.1 (la première fois : construction du chroot, ~1 min)"
$cli lab up

# Outside opening hours every call would hear the closed message: the demo service then starts
# its clock at the next opening (DEMO_CLOCK=now keeps the real time).
clock_args=()
if [ "${DEMO_CLOCK:-}" != "now" ]; then
  next=$($cli route --caller 0145678912 --json | .venv/bin/python -c \
    'import json, sys; print(json.load(sys.stdin)["next_open"] or "")')
  if [ -n "${DEMO_CLOCK:-}" ]; then next=$DEMO_CLOCK; fi
  if [ -n "$next" ]; then
    clock_args=(--clock "$next")
    say "Centre de services fermé à cette heure : l'horloge du service démarre à $next"
  fi
fi

say "Service (FastAGI) en arrière-plan ; journal : $log_file"
stop_service
nohup $cli serve --lab "${clock_args[@]}" >"$log_file" 2>&1 &
echo $! >"$pid_file"
for _ in $(seq 1 120); do
  grep -q "Service prêt" "$log_file" 2>/dev/null && break
  kill -0 "$(cat "$pid_file")" 2>/dev/null || die "le service s'est arrêté : voir $log_file"
  sleep 0.5
done
grep -q "Service prêt" "$log_file" || die "le service ne démarre pas : voir $log_file"

say "Appel de démonstration : un appelant tape 1 (incident), un agent SIPp répond"
$cli lab call --caller 0140000001 --digits 1 --wait 2 --hold 15 --talk 3
queue_log=$($cli lab status --json | .venv/bin/python -c \
  'import json, sys; print(json.load(sys.stdin)["queue_log"])')
echo "Dernières lignes du journal des files d'attente ($queue_log) :"
tail -n 8 "$queue_log"

say "Statistiques du jour (le service importe ce journal en continu)"
$cli stats import --queue-log "$queue_log" >/dev/null
$cli stats report --from "$(date +%F)" --to "$(date +%F)" --by branch --format csv

say "Que se passe-t-il si… (svi-acd route)"
$cli route --caller "0696 20 12 34" --at 2026-07-08T13:00
$cli route --caller "+687 25 12 34" --at 2026-07-08T12:00

cat <<TEXT

Le service et le laboratoire tournent (127.0.0.1 uniquement).
  Appeler vous-même : un softphone SIP sur cette machine, compte sans authentification,
    serveur 127.0.0.1:5060, composer 3000 (le numéro unique) — ou :
    $cli lab call --digits 3 --wait 2 --hold 20     # suivi d'un ticket : tapez 3
    $cli lab call --caller "0696 20 12 34"           # un appel de Martinique
  Voir ce qu'entend Asterisk : $cli lab cli 'queue show'
  Statistiques : $cli stats report --from $(date +%F) --to $(date +%F) --by hour --format json
  Pages web : http://127.0.0.1:8080/ (identifiants dans $accounts_file)
  API (jeton du superviseur dans $token_file) :
    curl -H "Authorization: Bearer $token" http://127.0.0.1:8080/api/etat
    curl -H "Authorization: Bearer $token" http://127.0.0.1:8080/api/crise/messages
  Tout arrêter : bash scripts/demo.sh stop
TEXT
