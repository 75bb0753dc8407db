#!/bin/bash
# portail-nightly: the exchange with the billing system, run by portail-nightly.timer.
#
# The billing system drops its CSV files (docs/exchange.md) into $PORTAIL_EXCHANGE_DIR/in:
# subscribers.csv, contracts.csv, readings.csv, invoices.csv (and the invoices' PDFs beside
# them), schedules.csv. Each file present is imported, in that order, all or nothing, then moved
# to done/DATE/. Then today's payment reminders are queued (after the invoices: a payment
# the file recorded stops its reminder), and the stored files no row points to (an upload cut
# short) are deleted once an hour old: after the imports, whose PDFs wait for the end of their
# file to be committed. What the portal collected since the last run is written to out/ for billing.
# A refused file stays in in/, its problems in the journal (journalctl -u portail-nightly),
# and the run exits 1.
set -uo pipefail
portail="$(dirname "$0")/portail"
exchange=${PORTAIL_EXCHANGE_DIR:-/var/lib/portail/exchange}
stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p "$exchange/in" "$exchange/out" "$exchange/done"
failed=0
for kind in subscribers contracts readings invoices schedules; do
    file="$exchange/in/$kind.csv"
    [ -f "$file" ] || continue
    if "$portail" import "$kind" "$file"; then
        mkdir -p "$exchange/done/$stamp" && mv "$file" "$exchange/done/$stamp/"
    else
        failed=1
        break  # later kinds depend on earlier ones (contracts need their subscribers)
    fi
done
"$portail" reminders send || failed=1
"$portail" files sweep --delete || failed=1
since=$(cat "$exchange/out/.since" 2>/dev/null || echo 2000-01-01)
now=$(TZ=Europe/Paris date +%Y-%m-%dT%H:%M:%S)  # portail export reads --since as Paris time
for kind in payments readings requests; do
    "$portail" export "$kind" --since "$since" > "$exchange/out/$kind-$stamp.csv.part" \
        && mv "$exchange/out/$kind-$stamp.csv.part" "$exchange/out/$kind-$stamp.csv" || failed=1
done
[ "$failed" = 0 ] && echo "$now" > "$exchange/out/.since"
exit "$failed"
