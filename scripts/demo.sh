#!/usr/bin/env bash
# Installs what the service needs (Debian, as root) and starts it on its embedded defaults:
# the shipped configuration, SQLite in ./var, a local Asterisk lab (chroot, 127.0.0.1) and a
# demo call. `bash scripts/demo.sh stop` stops the service and the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
export SVI_ACD_DATA="${SVI_ACD_DATA:-$PWD/var}"
# Commands typed later in a new shell read this file: svi-acd finds var/svi-acd.env in the
# folder it runs from or a parent (the checkout, with the default data folder).
export SVI_ACD_ENV="$SVI_ACD_DATA/svi-acd.env"
cli=.venv/bin/svi-acd
pid_file="$SVI_ACD_DATA/service.pid"
log_file="$SVI_ACD_DATA/service.log"

# The field of a JSON document (svi-acd … --json) given on stdin; empty when null.
json_field() {
  .venv/bin/python -c 'import json, sys; v = json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$1"
}

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
rm -f "$SVI_ACD_ENV"  # a file left by an earlier run keeps its mode when truncated
(
  umask 077  # before the file is opened: it will hold the lab's AMI secret
  {
    printf '# Écrit par scripts/demo.sh le %s : lu par les commandes svi-acd lancées depuis ce dépôt.\n' \
      "$(date '+%F %T')"
    printf 'SVI_ACD_DATA=%s\n' "$SVI_ACD_DATA"
    if [ -n "${SVI_ACD_LAB_RUN:-}" ]; then printf 'SVI_ACD_LAB_RUN=%s\n' "$SVI_ACD_LAB_RUN"; fi
  } >"$SVI_ACD_ENV"
)

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
echo "Identifiants : $accounts_file ; jeton d'API du superviseur : $token_file"

say "Laboratoire Asterisk sur 127.0.0.1 (la première fois : construction du chroot, ~1 min)"
$cli lab up
# The lab's AMI credentials, for the commands typed later (svi-acd acd etat…).
cat "$($cli lab status --json | json_field ami_credentials_file)" >>"$SVI_ACD_ENV"

# The clock the service uses, and what callers will hear with it. Closed now (or closing within
# 30 minutes), every call would hear the closed message: the service's clock then starts at
# the next opening. DEMO_CLOCK=now keeps the real time; DEMO_CLOCK=2026-12-07T10:00 sets it.
metro=0145678912
now_json=$($cli route --caller $metro --json)
start=""
case "${DEMO_CLOCK:-}" in
  now) ;;
  "")
    if [ "$(json_field open <<<"$now_json")" != "True" ]; then
      start=$(json_field next_open <<<"$now_json")
    else
      until=$(json_field open_until <<<"$now_json")
      if [ -n "$until" ] && [ $(( $(date -d "$until" +%s) - $(date +%s) )) -lt 1800 ]; then
        start=$($cli route --caller $metro --at "$until" --json | json_field next_open)
      fi
    fi ;;
  *) start=$DEMO_CLOCK ;;
esac
clock_args=()
if [ -n "$start" ]; then
  clock_args=(--clock "$start")
  at_json=$($cli route --caller $metro --at "$start" --json) || die "DEMO_CLOCK invalide : $start"
  say "Horloge du service : décalée, elle part de $start (heure réelle : $(TZ=Europe/Paris date '+%F %H:%M'), heure de Paris)"
else
  at_json=$now_json
  say "Horloge du service : l'heure réelle ($(TZ=Europe/Paris date '+%F %H:%M'), heure de Paris)"
fi
if [ "$(json_field open <<<"$at_json")" = "True" ]; then
  echo "À cette heure, les appelants de métropole sont servis (menu, file d'attente) jusqu'à" \
    "$(json_field open_until <<<"$at_json") ; ensuite ils entendront le message de fermeture."
else
  echo "À cette heure, le centre est fermé ($(json_field reason_text <<<"$at_json")) : les" \
    "appelants entendront le message de fermeture et la prochaine ouverture" \
    "($(json_field next_open <<<"$at_json"))."
fi

say "Service (FastAGI) en arrière-plan ; journal : $log_file (le précédent : $log_file.1)"
stop_service
[ -f "$log_file" ] && mv -f "$log_file" "$log_file.1"
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
queue_log=$($cli lab status --json | json_field queue_log)
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
    $cli lab call --digits "320261234#" --hold 20   # suivi du ticket 20261234 : 3, puis le numéro
    $cli lab call --caller "0696 20 12 34"           # un appel de Martinique
  Voir ce qu'entend Asterisk : $cli lab cli 'queue show'
  Statistiques : $cli stats report --from $(date +%F) --to $(date +%F) --by hour --format json
  Pages web : http://127.0.0.1:8080/ (identifiants dans $accounts_file)
  API (jeton du superviseur dans $token_file) :
    curl -H "Authorization: Bearer \$(cat $token_file)" http://127.0.0.1:8080/api/etat
    curl -H "Authorization: Bearer \$(cat $token_file)" http://127.0.0.1:8080/api/crise/messages
  File d'attente et agents : $cli acd etat
  Ces commandes, tapées depuis ce dépôt, retrouvent la base et l'AMI de la démo ($SVI_ACD_ENV ;
  ailleurs : export SVI_ACD_ENV=$SVI_ACD_ENV).
  Tout arrêter : bash scripts/demo.sh stop
TEXT
