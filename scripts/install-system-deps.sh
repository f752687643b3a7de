#!/usr/bin/env bash
# Installs the Debian packages that the integration and end-to-end tests run for real (no mocks): Dovecot for IMAP,
# LMTP delivery and Sieve vacation replies, Postfix for SMTP delivery and real bounces, PostgreSQL and Redis for n8n's
# queue mode and the Postgres store, Chromium for browser checks, wrk for load, openssl for the TLS test
# certificates. Idempotent: skips what is present. `--check` only prints the missing packages (one line, empty when
# none) and installs nothing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(dovecot-imapd dovecot-lmtpd dovecot-sieve dovecot-managesieved postfix postgresql redis-server chromium fonts-dejavu-core wrk openssl dnsmasq-base python3-dkim)
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${1:-}" = "--check" ]; then
	echo "${missing[*]}"
	exit 0
fi
if [ ${#missing[@]} -eq 0 ]; then
	echo "system packages present: ${PACKAGES[*]}"
	exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# Postfix asks how to configure the system instance: it must not; the tests run private instances on loopback.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}"
# The packaged services must not hold the ports or mail folders: the tests start their own instances on loopback.
for svc in dovecot postfix postgresql redis-server; do
	$SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
