#!/usr/bin/env bash
# What .ci/run's python3-qgis step costs on this machine (issue 18.6): the wall time of
# `apt-get update` and `apt-get install --no-install-recommends python3-qgis`, how many packages
# it adds and how much it downloads, then how long QGIS's Python bindings take to start headless.
# Needs root (or sudo). On a machine that already has python3-qgis it only times the start-up.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
if ! QT_QPA_PLATFORM=offscreen /usr/bin/python3 -c "import qgis.core" 2>/dev/null; then
  t0=$(date +%s.%N)
  $SUDO apt-get update -qq
  t1=$(date +%s.%N)
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    python3-qgis | tee /tmp/qgis_install.$$.log | grep -E "newly installed|Need to get|^Fetched"
  t2=$(date +%s.%N)
  printf 'apt-get update: %.0f s\napt-get install python3-qgis: %.0f s\n' \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
else
  echo "python3-qgis already installed: $(dpkg-query -W -f='${Version}' python3-qgis)"
fi
t0=$(date +%s.%N)
QT_QPA_PLATFORM=offscreen /usr/bin/python3 -c "
from qgis.core import Qgis, QgsApplication, QgsProviderRegistry
app = QgsApplication([], False); app.initQgis()
print('QGIS', Qgis.QGIS_VERSION, 'OAPIF provider:', 'OAPIF' in QgsProviderRegistry.instance().providerList())
app.exitQgis()" 2>/dev/null
t1=$(date +%s.%N)
printf 'QGIS headless start + provider registry: %.1f s\n' "$(echo "$t1 - $t0" | bc)"
