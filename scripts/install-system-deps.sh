#!/usr/bin/env bash
# Installs the Debian packages that the integration and end-to-end tests run for real (no mocks): Dovecot for
# IMAP, Postfix for SMTP delivery, Chromium for browser checks, wrk for load. Idempotent: skips what is present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(dovecot-imapd dovecot-sieve dovecot-managesieved wrk)
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "system packages present: ${PACKAGES[*]}"
	exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The packaged services must not hold the ports or mail folders: the tests start their own instances on loopback.
for svc in dovecot postfix; do
	$SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
