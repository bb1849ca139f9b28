# Shared by scripts/test.sh and scripts/demo.sh: system packages and the virtualenv.
# Debian (as root) is the reference machine; on other systems install the packages yourself.

# Debian packages the project needs, with the program that tells whether each is there.
# (program:package) pairs; a package is installed only when its program is missing.
SYSTEM_PACKAGES=(
  "python3:python3"
  "pip3:python3-pip"
  "git:git"
  "curl:curl"
  "initdb:postgresql"
  "espeak-ng:espeak-ng"
  "ffmpeg:ffmpeg"
  "debootstrap:debootstrap"
  "sipp:sip-tester"
  "redis-server:redis-server"
  "nodejs:nodejs"
  "npm:npm"
  "chromium:chromium"
)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'ERREUR : %s\n' "$*" >&2; exit 1; }

have_program() {
  command -v "$1" >/dev/null 2>&1 && return 0
  # PostgreSQL keeps its server programs out of PATH.
  compgen -G "/usr/lib/postgresql/*/bin/$1" >/dev/null
}

install_system_packages() {
  local missing=() pair
  for pair in "${SYSTEM_PACKAGES[@]}" "$@"; do
    have_program "${pair%%:*}" || missing+=("${pair#*:}")
  done
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=("python3-venv")
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "paquets manquants (${missing[*]}) et apt-get absent : installez-les."
  [ "$(id -u)" -eq 0 ] || die "paquets manquants (${missing[*]}) : relancez en root pour les installer."
  say "Installation des paquets Debian : ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update a échoué (dépôt Debian injoignable ?)"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} a échoué"
}

make_venv() {
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "Python 3.11 ou plus récent est nécessaire ($(python3 --version))"
  if [ ! -x .venv/bin/python ]; then
    say "Création de l'environnement Python (.venv)"
    python3 -m venv .venv || die "python3 -m venv a échoué (paquet python3-venv ?)"
  fi
  say "Installation du projet et de ses dépendances (pip)"
  .venv/bin/pip install -q --disable-pip-version-check -e ".[${1:-test}]" 2>&1 \
    | grep -v "is ignored: it is neither a file nor a directory" || true
  .venv/bin/python -c 'import svi_acd' || die "l'installation du projet a échoué"
}

# The web pages' front-end packages (DSFR, axe-core for the accessibility tests) come from npm
# and are served locally: install them once, from the lock file when there is one.
# --ignore-scripts: nothing from the registry runs on this machine (the DSFR needs no build).
install_web_assets() {
  local assets=svi_acd/web/assets
  [ -d "$assets/node_modules/@gouvfr/dsfr/dist" ] && [ -d "$assets/node_modules/axe-core" ] \
    && return 0
  command -v npm >/dev/null || die "npm absent : installez le paquet Debian npm."
  say "Ressources web (DSFR, axe-core) depuis npm"
  if [ -f "$assets/package-lock.json" ]; then
    (cd "$assets" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) \
      || die "npm ci a échoué dans $assets (registre npm injoignable ?)"
  else
    (cd "$assets" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error) \
      || die "npm install a échoué dans $assets (registre npm injoignable ?)"
  fi
}
