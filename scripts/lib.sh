# Shared by scripts/run and scripts/test: what a fresh Debian/Ubuntu machine needs besides the .NET SDK.

# apt_install <why> <package>...: installs Debian packages, through sudo when not root; fails saying what to install.
apt_install() {
  local why=$1
  shift
  echo "$why; installing Debian's $* package(s)" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: install them first: apt-get install $* (needs root)" >&2
      return 1
    fi
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@"
}

ensure_postgres() {
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
    return 0
  fi
  apt_install "PostgreSQL server programs not found" postgresql
}

# Debian's RabbitMQ (3.10) for the bus tests, which start a throwaway node of their own on free ports
# (tests/Hub.Tests/Infrastructure/TestRabbitMq.cs: own ports, node name, cookie and port mapper, so a running system
# service would not disturb them). Installing the package starts its system service where the machine runs services
# (5672/25672; in containers a policy-rc.d usually forbids it); the tests do not use it, so when this function installed
# the package it stops and disables that service, saving its memory. A RabbitMQ installed before is left alone.
ensure_rabbitmq() {
  if command -v rabbitmq-server >/dev/null 2>&1 && command -v rabbitmqctl >/dev/null 2>&1; then
    return 0
  fi
  apt_install "rabbitmq-server not found (the bus is tested against a real RabbitMQ node)" rabbitmq-server
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  if [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
  else
    $sudo invoke-rc.d rabbitmq-server stop >/dev/null 2>&1 || true
    $sudo update-rc.d rabbitmq-server disable >/dev/null 2>&1 || true
  fi
}

ensure_xmlsec1() {
  if command -v xmlsec1 >/dev/null 2>&1; then
    return 0
  fi
  apt_install "xmlsec1 not found (the XML-DSig interop tests check signatures with it)" xmlsec1
}

# Node.js and npm (Debian's nodejs and npm when missing), then the OpenAPI validators the tests run, from the lock file.
ensure_openapi_validator() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install "node/npm not found (the OpenAPI document is checked by npm validators)" nodejs npm
  fi
  npm ci --prefix tools/openapi-validator --no-audit --no-fund --loglevel=error
}

# Debian's Chromium for the dashboard's browser tests, and playwright-core (no browser download) from the lock file.
ensure_browser() {
  if ! command -v chromium >/dev/null 2>&1; then
    apt_install "chromium not found (the dashboard is tested in a real browser)" chromium
  fi
  npm ci --prefix tools/browser-tests --no-audit --no-fund --loglevel=error
}

ensure_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET SDK (version in global.json) is needed: https://dot.net" >&2
    return 1
  fi
}
