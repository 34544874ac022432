# Shared by scripts/run and scripts/test: what a fresh Debian/Ubuntu machine needs besides the .NET SDK.

ensure_postgres() {
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
    return 0
  fi
  echo "PostgreSQL server programs not found; installing Debian's 'postgresql' package" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: install PostgreSQL first: apt-get install postgresql (needs root)" >&2
      return 1
    fi
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends postgresql
}

ensure_xmlsec1() {
  if command -v xmlsec1 >/dev/null 2>&1; then
    return 0
  fi
  echo "xmlsec1 not found; installing Debian's 'xmlsec1' package (the XML-DSig interop tests check signatures with it)" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: install xmlsec1 first: apt-get install xmlsec1 (needs root)" >&2
      return 1
    fi
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends xmlsec1
}

# Node.js and npm (Debian's nodejs and npm when missing), then the OpenAPI validators the tests run, from the lock file.
ensure_openapi_validator() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node/npm not found; installing Debian's 'nodejs' and 'npm' packages (the OpenAPI document is checked by npm validators)" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
      if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "error: install Node.js first: apt-get install nodejs npm (needs root)" >&2
        return 1
      fi
    fi
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends nodejs npm
  fi
  npm ci --prefix tools/openapi-validator --no-audit --no-fund --loglevel=error
}

ensure_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET SDK (version in global.json) is needed: https://dot.net" >&2
    return 1
  fi
}
