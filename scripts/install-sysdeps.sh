#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing and we are root.
# Chromium and chromedriver come from Debian (never a browser download); fonts-noto-cjk renders Chinese;
# Java runs Spark; PostgreSQL's binaries start a throwaway server when none answers on 127.0.0.1:5432.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
{ fc-list 2>/dev/null | grep -qi "noto.*cjk"; } || dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
# PostgreSQL: the tests use the server on 127.0.0.1:5432 when one answers, else start a throwaway one
# from the binaries (tests/conftest_pg.py), so the binaries are needed only when no server answers.
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null \
    && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "missing system packages: ${need[*]} (run as root or install them; the tests that need them will fail)" >&2
  exit 0
fi
echo "installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
